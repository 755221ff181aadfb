#!/usr/bin/env bash
# Print the name of a usable PostgreSQL image for the integration tests.
#
# Usage: ensure.sh [IMAGE]
#   IMAGE defaults to $GATEHOUSE_TEST_POSTGRES_IMAGE, else postgres:17-alpine.
#
# Order: IMAGE if present locally; else IMAGE if `docker pull` succeeds
# (bounded by $GATEHOUSE_TEST_PULL_TIMEOUT seconds, default 60); else the
# locally built gatehouse-test/postgres:15, building it with build.sh if it
# is missing or was built from another recipe (recipe.sh). Stdout gets
# exactly one line (the image name) or, when Docker is missing or not
# answering, nothing (exit 0). Everything else goes to stderr.
set -euo pipefail

WANT="${1:-${GATEHOUSE_TEST_POSTGRES_IMAGE:-postgres:17-alpine}}"
LOCAL_IMAGE="gatehouse-test/postgres:15"
PULL_TIMEOUT="${GATEHOUSE_TEST_PULL_TIMEOUT:-60}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf 'pgtest/image/ensure.sh: %s\n' "$*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }
# built: the local image is present and was built from today's recipe.
built() {
	local recipe
	recipe="$("$HERE/recipe.sh")" && [ -n "$recipe" ] &&
		[ "$(docker image inspect --format '{{index .Config.Labels "io.gatehouse.image-recipe"}}' "$LOCAL_IMAGE" 2>/dev/null)" = "$recipe" ]
}

if ! command -v docker >/dev/null 2>&1; then
	log "docker is not installed; no PostgreSQL image available"
	exit 0
fi
if ! timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
	log "the Docker daemon does not answer; no PostgreSQL image available"
	exit 0
fi

if [ "$WANT" != "$LOCAL_IMAGE" ] && present "$WANT"; then
	echo "$WANT"
	exit 0
fi

if [ "$WANT" != "$LOCAL_IMAGE" ]; then
	log "pulling $WANT (timeout ${PULL_TIMEOUT}s)"
	if err="$(timeout "$PULL_TIMEOUT" docker pull --quiet "$WANT" 2>&1 >/dev/null)"; then
		echo "$WANT"
		exit 0
	fi
	err="${err%%$'\n'*}"
	log "pull of $WANT failed (${err:-timed out}); falling back to $LOCAL_IMAGE"
fi

if built; then
	echo "$LOCAL_IMAGE"
	exit 0
fi

# Several test processes may get here at once: build only once.
lock="${TMPDIR:-/tmp}/gatehouse-pgtest-image.lock"
if command -v flock >/dev/null 2>&1 && { exec 9>"$lock"; } 2>/dev/null; then
	if ! flock -n 9; then
		log "another build of $LOCAL_IMAGE is running; waiting for it"
		flock 9
	fi
	if built; then
		echo "$LOCAL_IMAGE"
		exit 0
	fi
fi

if present "$LOCAL_IMAGE"; then
	log "rebuilding $LOCAL_IMAGE: it was built from an older recipe (test/pgtest/image)"
fi
log "building $LOCAL_IMAGE from Debian packages (about a minute)"
if ! "$HERE/build.sh" "$LOCAL_IMAGE" >&2; then
	# build.sh replaces the image only once its new one is imported, so an
	# image still here is the older one; it still serves the tests (the
	# rebuild needs root).
	if present "$LOCAL_IMAGE"; then
		log "building $LOCAL_IMAGE failed; using the one built from an older recipe"
		echo "$LOCAL_IMAGE"
		exit 0
	fi
	log "building $LOCAL_IMAGE failed"
	exit 1
fi
echo "$LOCAL_IMAGE"

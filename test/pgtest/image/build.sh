#!/usr/bin/env bash
# Build a PostgreSQL 15 Docker image from Debian bookworm packages, without
# any container registry: mmdebstrap creates a root filesystem from the
# host's own apt sources, and `docker import` turns it into an image that
# honours the official postgres image's contract (see docker-entrypoint.sh).
#
# Usage: build.sh [IMAGE]        (default: gatehouse-test/postgres:15)
#
# Needs root (mmdebstrap's root mode) and a running Docker daemon.
# Environment: APT_SOURCES  apt sources file to read packages from
#                           (default: /etc/apt/sources.list.d/debian.sources)
set -euo pipefail

IMAGE="${1:-gatehouse-test/postgres:15}"
PG_MAJOR=15
SUITE=bookworm
SOURCES="${APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker is not installed"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "the Docker daemon does not answer"
[ -r "$SOURCES" ] || die "apt sources file $SOURCES not readable (set APT_SOURCES)"
[ -r "$HERE/docker-entrypoint.sh" ] || die "$HERE/docker-entrypoint.sh is missing"

if ! command -v mmdebstrap >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	log "installing mmdebstrap"
	# A fresh machine may have no package lists yet.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >&2; }
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-pgimage.XXXXXX")"
# --one-file-system: never descend into something left mounted in a chroot.
trap 'rm -rf --one-file-system "$workdir"' EXIT
cp "$HERE/docker-entrypoint.sh" "$workdir/docker-entrypoint.sh"

start=$SECONDS
log "bootstrapping $SUITE + postgresql-$PG_MAJOR with mmdebstrap (sources: $SOURCES)"
# Size: no docs/man pages/translations (PostgreSQL's own man pages stay:
# update-alternatives needs them), and no LLVM JIT (libLLVM + z3 are
# ~130 MB; PostgreSQL silently disables JIT when llvmjit.so is absent).
# The Debian postinst would create a "main" cluster; createcluster.conf is
# written before the packages are installed to stop that.
# /run is emptied by hand (mmdebstrap would also delete /run/postgresql, the
# socket directory, which must exist when the image runs as --user postgres).
# mmdebstrap's own temp chroot goes into $workdir, so it is cleaned up too.
# shellcheck disable=SC2016 # the hooks' "$1" is expanded by mmdebstrap
TMPDIR="$workdir" mmdebstrap \
	--variant=minbase \
	--include="postgresql-$PG_MAJOR,xz-utils,zstd" \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--dpkgopt='path-exclude=/usr/share/lintian/*' \
	--dpkgopt="path-exclude=/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit*" \
	--dpkgopt="path-exclude=/usr/lib/postgresql/$PG_MAJOR/lib/bitcode/*" \
	--dpkgopt='path-exclude=/usr/lib/*/libLLVM-*' \
	--dpkgopt='path-exclude=/usr/lib/*/libz3.so*' \
	--essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.conf"' \
	--customize-hook="upload $workdir/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" \
	--customize-hook='chmod 0755 "$1/usr/local/bin/docker-entrypoint.sh"' \
	--customize-hook='chroot "$1" install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data' \
	--skip=cleanup/run \
	--customize-hook='find "$1/run" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf --one-file-system {} +' \
	--customize-hook='chroot "$1" install -d -o postgres -g postgres -m 3777 /run/postgresql' \
	--customize-hook='mkdir -p "$1/docker-entrypoint-initdb.d"' \
	--customize-hook="test ! -e \"\$1/var/lib/postgresql/$PG_MAJOR/main\"" \
	"$SUITE" "$workdir/rootfs.tar" "$SOURCES"
log "rootfs built in $((SECONDS - start))s ($(du -h "$workdir/rootfs.tar" | cut -f1))"

old_id="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
recipe="$("$HERE/recipe.sh")"

log "importing as $IMAGE"
docker import \
	--change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
	--change 'CMD ["postgres"]' \
	--change "ENV PG_MAJOR=$PG_MAJOR" \
	--change "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	--change 'ENV PGDATA=/var/lib/postgresql/data' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'EXPOSE 5432' \
	--change 'VOLUME /var/lib/postgresql/data' \
	--change "LABEL org.opencontainers.image.description=\"PostgreSQL $PG_MAJOR from Debian $SUITE packages, for gatehouse integration tests\"" \
	--change "LABEL io.gatehouse.image-recipe=$recipe" \
	--message "built by test/pgtest/image/build.sh" \
	- "$IMAGE" < "$workdir/rootfs.tar" >/dev/null

new_id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
	# The previous build is now untagged; drop it unless a container uses it.
	docker image rm "$old_id" >/dev/null 2>&1 || true
fi

log "done in $((SECONDS - start))s: $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec))"

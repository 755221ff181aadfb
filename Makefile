# Gatehouse's build. `make run` and `make test` are the two commands a new
# machine needs; every other target is for maintainers.

GO          ?= go
# The reaper image the pinned testcontainers-go release starts; where it can
# be neither found nor pulled, the reaper is disabled and the test harness
# removes its own containers.
RYUK_IMAGE  := testcontainers/ryuk:0.14.0
PGTEST_LABEL := io.gatehouse.test

# testcontainers guesses where published ports are reachable from the bridge
# network's gateway, which inside a container (as here and on CI) may not
# route; with a local daemon they are on this host's loopback.
ifeq ($(DOCKER_HOST),)
export TESTCONTAINERS_HOST_OVERRIDE ?= localhost
endif

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILD_DATE  ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS     := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(BUILD_DATE)

.PHONY: all run build test lint generate test-image image browser clean-test-containers bench soak fuzz

all: lint build test

## run: the server on the embedded SQLite default (./gatehouse.db) and :8080
run: build
	./bin/gatehouse serve

## build: the static gatehouse binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gatehouse ./cmd/gatehouse

## test: the whole suite with the race detector, container and browser tests included
test: clean-test-containers browser
	@image="$$(test/pgtest/image/ensure.sh)"; \
	if docker image inspect $(RYUK_IMAGE) >/dev/null 2>&1 || timeout 60 docker pull -q $(RYUK_IMAGE) >/dev/null 2>&1; then \
		ryuk=false; \
	else \
		echo "test: reaper image $(RYUK_IMAGE) unavailable; disabling it (the harness removes its own containers)" >&2; \
		ryuk=true; \
	fi; \
	GATEHOUSE_TEST_POSTGRES_IMAGE="$$image" TESTCONTAINERS_RYUK_DISABLED=$$ryuk \
		$(GO) test -race -count=1 ./...; status=$$?; \
	$(MAKE) --no-print-directory clean-test-containers; exit $$status

## browser: install Debian's chromium for the browser tests when it is missing
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
		  { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }; } || \
		echo "test: chromium is not installed and cannot be; browser tests will skip (or fail under GATEHOUSE_REQUIRE_DOCKER=1)" >&2

## test-image: make sure a Postgres test image exists, building it offline if need be
test-image:
	@test/pgtest/image/ensure.sh

# The container image, FROM scratch, built without pulling anything: the
# Dockerfile only copies what this target stages into a temporary build
# context (the Dockerfile's header says why). test/container builds the image
# through this target too, under an IMAGE_REPO of its own. The labels and the
# version tag repeat what LDFLAGS stamped into the binary (LDFLAGS was
# expanded once; VERSION and BUILD_DATE would be evaluated again). An image
# that a rebuild leaves without any tag is removed.
stamped      = $(patsubst main.$(1)=%,%,$(filter main.$(1)=%,$(LDFLAGS)))
IMAGE_REPO  ?= gatehouse
IMAGE_TAGS  ?= dev $(subst /,-,$(subst +,-,$(call stamped,version)))
IMAGE_UID   := 65532
CA_BUNDLE   ?= /etc/ssl/certs/ca-certificates.crt

## image: the container image gatehouse:dev (and gatehouse:VERSION) from bin/gatehouse, offline
image: build
	@set -eu; \
	if [ "$$($(GO) env GOOS)" != linux ]; then \
		echo "image: bin/gatehouse must be a Linux binary; run make image GOOS=linux" >&2; exit 1; \
	fi; \
	[ -r "$(CA_BUNDLE)" ] || { echo "image: no CA bundle at $(CA_BUNDLE); set CA_BUNDLE" >&2; exit 1; }; \
	ctx="$$(mktemp -d "$${TMPDIR:-/tmp}/gatehouse-image.XXXXXX")"; \
	trap 'rm -rf "$$ctx"' EXIT; \
	mkdir -p "$$ctx/rootfs/etc/ssl/certs" "$$ctx/rootfs/tmp" "$$ctx/data"; \
	chmod 1777 "$$ctx/rootfs/tmp"; \
	cp bin/gatehouse "$$ctx/rootfs/gatehouse"; \
	cp "$(CA_BUNDLE)" "$$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"; \
	printf 'root:x:0:0:root:/root:/sbin/nologin\ngatehouse:x:%s:%s:gatehouse:/data:/sbin/nologin\n' \
		$(IMAGE_UID) $(IMAGE_UID) >"$$ctx/rootfs/etc/passwd"; \
	printf 'root:x:0:\ngatehouse:x:%s:\n' $(IMAGE_UID) >"$$ctx/rootfs/etc/group"; \
	chmod 0644 "$$ctx/rootfs/etc/passwd" "$$ctx/rootfs/etc/group"; \
	old="$$(docker image ls --quiet --no-trunc '$(IMAGE_REPO)' | sort -u)"; \
	docker build --file Dockerfile \
		--build-arg UID=$(IMAGE_UID) --build-arg VERSION='$(call stamped,version)' \
		--build-arg COMMIT='$(call stamped,commit)' --build-arg BUILD_DATE='$(call stamped,date)' \
		$(foreach tag,$(IMAGE_TAGS),--tag '$(IMAGE_REPO):$(tag)') "$$ctx"; \
	for id in $$old; do \
		if [ "$$(docker image inspect --format '{{len .RepoTags}}' "$$id" 2>/dev/null)" = 0 ]; then \
			docker image rm "$$id" >/dev/null 2>&1 || true; \
		fi; \
	done; \
	echo "image: built $(foreach tag,$(IMAGE_TAGS),$(IMAGE_REPO):$(tag))"

## bench: load benchmarks on Postgres against their ceilings; writes docs/BENCHMARKS.md (about 7 min; BENCH_DURATION=20s per run, see test/load/bench.sh)
bench: build
	@GO='$(GO)' test/load/bench.sh bench

## soak: the mixed load for 5 minutes at concurrency 64, memory sampled over time; writes docs/SOAK.md
soak: build
	@GO='$(GO)' test/load/bench.sh soak

## fuzz: every fuzz target (func Fuzz… in a _test.go file) for FUZZTIME executions each, one after another
# Targets are found in the sources rather than listed, so that a new one
# cannot be forgotten; a failing input is written to the package's
# testdata/fuzz/<target>/, where plain go test runs it from then on.
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a target with "context deadline exceeded" as the time runs out, with
# no failing input (go.dev/issue/75804, fixed in Go 1.27); a count has no
# deadline to race.
FUZZTIME ?= 20000x
fuzz:
	@n=0; \
	for file in $$(git ls-files -co --exclude-standard '*_test.go' | xargs grep -l '^func Fuzz' 2>/dev/null); do \
		dir="./$$(dirname "$$file")"; \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "fuzz: $$name ($$dir) for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$dir" || exit 1; \
			n=$$((n + 1)); \
		done; \
	done; \
	[ "$$n" -gt 0 ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }

## lint: gofmt and go vet
lint:
	@unformatted="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## generate: regenerate the Ent code from ent/schema and the next migration (NAME=short_name)
generate:
	$(GO) generate ./ent
	@image="$$(test/pgtest/image/ensure.sh)"; \
	GATEHOUSE_TEST_POSTGRES_IMAGE="$$image" TESTCONTAINERS_RYUK_DISABLED=true \
		$(GO) run ./ent/migrategen -name "$(or $(NAME),change)"
	$(GO) mod tidy

# Containers a killed test binary left behind. Their label holds the PID of
# the test binary that started them; containers of a test still running
# beside this one (another make test, an editor's test run) are left alone.
clean-test-containers:
	@for id in $$(docker ps -aq --filter label=$(PGTEST_LABEL) 2>/dev/null); do \
		pid="$$(docker inspect -f '{{index .Config.Labels "$(PGTEST_LABEL)"}}' "$$id" 2>/dev/null)"; \
		case "$$pid" in ''|*[!0-9]*) ;; *) kill -0 "$$pid" 2>/dev/null && continue ;; esac; \
		docker rm -f -v "$$id" >/dev/null; \
	done

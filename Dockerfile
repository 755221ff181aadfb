# Gatehouse's container image: the static gatehouse binary on an empty base.
#
# Build it with
#
#	make image        # -> gatehouse:dev and gatehouse:<version>
#
# not with `docker build .`. The build context is not the repository: it is a
# directory that `make image` stages after `make build` has made the static,
# version-stamped binary (CGO_ENABLED=0, -trimpath, -ldflags -X main.version=…):
#
#	rootfs/gatehouse                          bin/gatehouse
#	rootfs/etc/ssl/certs/ca-certificates.crt  the host's CA bundle (CA_BUNDLE)
#	rootfs/etc/passwd, rootfs/etc/group       root and gatehouse (UID/GID 65532)
#	rootfs/tmp/                               mode 1777
#	data/                                     becomes /data, owned by 65532
#
# Why not the usual multi-stage build, a `golang` stage that compiles and a
# `scratch` stage that receives the binary? Its first stage needs a Go image
# (and a CA-certificates source) pulled from a registry, and the machines this
# project is built on reach no container registry. `scratch` is built into
# Docker and needs no pull, so this file only copies from the staged context
# and builds anywhere, offline, with the legacy builder or BuildKit. Where
# registries are reachable a multi-stage build would make the same image: a
# `golang` stage that runs `make build` and writes the same passwd and group,
# then these instructions with `COPY --from=` that stage. The binary would be
# the same, since the same Makefile target builds it with the same flags.
#
# Running it:
#
#	docker run -p 127.0.0.1:8080:8080 -v gatehouse-data:/data gatehouse:dev
#
# serves on :8080 with the embedded SQLite database in /data/gatehouse.db
# (GATEHOUSE_DATABASE_URL=sqlite:///data/gatehouse.db, set below) and, unless
# GATEHOUSE_SECRET is set, a generated secret beside it in
# /data/gatehouse.db.secret. Keep /data on a volume: a named volume takes
# /data's owner from the image; a bind-mounted host directory must be
# writable by UID 65532. For Postgres set GATEHOUSE_DATABASE_URL=postgres://…
# and GATEHOUSE_SECRET (see compose.yaml). Other commands go as arguments:
# `docker run --rm gatehouse:dev version`, `… migrate status`, `… keys rotate`.
#
# Do not add a `# syntax=` line: BuildKit would pull that frontend image.

FROM scratch

# Settings and labels first, so that the build cache has them after the
# first build: the legacy builder spends about a second on every step it
# runs, and every step after the copied binary runs again on every build.

# The user the service runs as; `make image` writes the passwd and group
# entries for it with the same number. Numeric, so that a runtime
# (Kubernetes' runAsNonRoot) can tell it is not root without /etc/passwd.
ARG UID=65532
USER ${UID}:${UID}
ENV GATEHOUSE_DATABASE_URL=sqlite:///data/gatehouse.db
EXPOSE 8080
ENTRYPOINT ["/gatehouse"]
CMD ["serve"]
LABEL org.opencontainers.image.title="gatehouse" \
      org.opencontainers.image.description="Gatehouse authentication service" \
      org.opencontainers.image.source="https://github.com/gatehouse-auth/gatehouse" \
      org.opencontainers.image.licenses="MIT"

# What the build stamped into the binary; `make image` passes the values.
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}"

# Everything the process may not change belongs to root.
COPY rootfs/ /
# The one directory the process writes: the SQLite database and its local
# secret. It is the working directory too, so that a relative sqlite:// path
# lands there (WORKDIR must follow the COPY, or /data would belong to root).
COPY --chown=${UID}:${UID} data/ /data/
WORKDIR /data

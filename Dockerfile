# syntax=docker/dockerfile:1
# exception-worker: one image, one binary. Build: docker build -t exception-worker .
#
# Base images. The tags below move (a new Rust patch release, a Debian point release or security
# update); for a reproducible build pin each FROM by digest, keeping the tag for readers:
#   FROM rust:1.95-slim-bookworm@sha256:<digest> AS builder
#   FROM debian:bookworm-slim@sha256:<digest> AS runtime
# Get the digest of the tag as it is today with
#   docker buildx imagetools inspect rust:1.95-slim-bookworm    (the "Digest:" line: the index)
# or `docker pull rust:1.95-slim-bookworm && docker inspect --format '{{index .RepoDigests 0}}'
# rust:1.95-slim-bookworm`, and bump it (with Renovate or Dependabot, or by hand) to take
# security updates. That digest is also the pin of the Debian packages installed below: they are
# named without versions on purpose (see the apt-get lines).
#
# scripts/lint.sh reproduces the builder stage without Docker (scripts/dockerfile_stages.py): it
# lays out what each COPY puts into the stage, honouring .dockerignore, and runs the same cargo
# commands. A file the build needs and no COPY brings fails the lint.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /build
# Unversioned on purpose (hadolint DL3008): bookworm's mirror keeps only the newest version of a
# package, so an exact pin such as libssl-dev=3.0.x breaks the build at the next security update.
# The base image digest (see above) fixes what the build starts from.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config make g++ libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer: source edits do not rebuild them. Cargo reads every
# workspace member's manifest and every target a manifest declares, so each member's Cargo.toml
# is copied and each declared target gets a stub: the library and binaries, and the benches that
# Cargo.toml declares as [[bench]] hot_path and listing (benches/hot_path.rs, benches/listing.rs).
# The bench stubs stay: the image builds only the binary, so the real benches are never needed,
# and bench edits do not invalidate this layer.
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/Cargo.toml
COPY migration/Cargo.toml migration/Cargo.toml
COPY test-support/Cargo.toml test-support/Cargo.toml
RUN mkdir -p src entity/src migration/src benches \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && touch entity/src/lib.rs migration/src/lib.rs && echo 'fn main() {}' > migration/src/main.rs \
    && echo 'fn main() {}' > benches/hot_path.rs && echo 'fn main() {}' > benches/listing.rs \
    && cargo build --release --locked --bin exception-worker \
    && rm -rf src entity/src migration/src

# The sources of every crate the binary is built from (the packs under config/ are read at run
# time and copied into the runtime stage).
# The commit this image is built from, for the build_info metric:
#   docker build --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
ARG GIT_COMMIT=unknown
COPY src src
COPY entity/src entity/src
COPY migration/src migration/src
RUN touch src/main.rs src/lib.rs entity/src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --bin exception-worker

FROM debian:bookworm-slim AS runtime
# Unversioned on purpose, as in the builder stage: the base image digest is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 worker \
    && useradd --system --uid 10001 --gid worker --home-dir /app --shell /usr/sbin/nologin worker
WORKDIR /app
COPY --from=builder /build/target/release/exception-worker /usr/local/bin/exception-worker
COPY config /app/config
RUN mkdir -p /app/data && chown worker:worker /app/data

# The scaling guide's defaults; override per deployment.
ENV WORKER_TYPE=intake \
    CONCURRENCY=1 \
    GROUP_ID=intake-workers \
    HTTP_ADDR=0.0.0.0:8080 \
    CONFIG_DIR=/app/config \
    DATA_DIR=/app/data \
    LOG_FORMAT=json \
    SHUTDOWN_TIMEOUT_SECS=30 \
    RUN_MIGRATIONS=true

USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
# No curl in the image: the binary probes its own /readyz on HTTP_ADDR's port (exit 0 on 200).
# Kubernetes ignores HEALTHCHECK and uses the httpGet probes of deploy/kubernetes instead.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/exception-worker", "probe", "--endpoint", "readyz"]
ENTRYPOINT ["/usr/local/bin/exception-worker"]

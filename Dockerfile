# syntax=docker/dockerfile:1
# exception-worker: one image, one binary. Build: docker build -t exception-worker .

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config=* make=* g++=* libssl-dev=* zlib1g-dev=* \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer: source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/Cargo.toml
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src entity/src migration/src \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && touch entity/src/lib.rs migration/src/lib.rs && echo 'fn main() {}' > migration/src/main.rs \
    && cargo build --release --locked --bin exception-worker \
    && rm -rf src entity/src migration/src

COPY src src
COPY entity/src entity/src
COPY migration/src migration/src
RUN touch src/main.rs src/lib.rs entity/src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --bin exception-worker

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=* libssl3=* zlib1g=* \
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

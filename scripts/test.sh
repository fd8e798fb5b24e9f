#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace on SQLite, on a real
# Postgres and on a real Kafka-protocol broker, then the API contract check (schemathesis
# against the live service, scripts/api-contract.sh). TEST_DATABASE_URL points at a Postgres server
# whose user may create databases (default: the local server on 127.0.0.1:5432). Under CI=true
# the Postgres and Kafka tests never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required: install the Rust toolchain from https://rustup.rs" >&2
  exit 1
fi

# A real Kafka-protocol broker for the Kafka tests: the one KAFKA_BOOTSTRAP_SERVERS names, or a
# tansu broker installed into .tools/ and started on a free loopback port for this run.
if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  export TEST_KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS}"
else
  echo "==> starting a tansu broker (scripts/kafka-broker.sh)"
  TEST_KAFKA_BOOTSTRAP_SERVERS="$(scripts/kafka-broker.sh start)"
  export TEST_KAFKA_BOOTSTRAP_SERVERS
  trap 'scripts/kafka-broker.sh stop >/dev/null 2>&1 || true' EXIT
fi
# The binary under test must not pick up the caller's broker by accident.
unset KAFKA_BOOTSTRAP_SERVERS

# Debian's chromium and chromedriver for the console's browser tests (tests/browser). Under
# CI=true they are required; elsewhere the browser tests skip without them.
echo "==> chromium and chromedriver (scripts/install-browser.sh)"
if ! scripts/install-browser.sh >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "the browser tests need chromium and chromedriver" >&2
    exit 1
  fi
  echo "warning: no chromium/chromedriver; the browser tests will skip" >&2
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

echo "==> cargo test (SQLite and Postgres at ${TEST_DATABASE_URL%%@*}@...)"
cargo test --workspace --all-targets

echo "==> API contract (scripts/api-contract.sh)"
bash scripts/api-contract.sh

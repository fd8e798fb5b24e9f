#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace on SQLite and on a real
# Postgres. TEST_DATABASE_URL points at a Postgres server whose user may create databases
# (default: the local server on 127.0.0.1:5432). Under CI=true the Postgres tests never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required: install the Rust toolchain from https://rustup.rs" >&2
  exit 1
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

echo "==> cargo test (SQLite and Postgres at ${TEST_DATABASE_URL%%@*}@...)"
cargo test --workspace --all-targets

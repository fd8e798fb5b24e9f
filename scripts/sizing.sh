#!/usr/bin/env bash
# Bytes per exception on disk: runs `exception-worker bench` (every role, the bench's mix of
# exceptions) on a fresh SQLite file and on a fresh Postgres database, then divides what the
# database grew by the number of exceptions. Nothing is removed by retention during the run
# (its defaults keep everything for days), so this is the size of one finished exception with
# its events, claims, steps, tool executions and feedback.
#
#   scripts/sizing.sh                 2,000 exceptions, the release build
#   SIZING_EXCEPTIONS=500 BIN=target/debug/exception-worker scripts/sizing.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N="${SIZING_EXCEPTIONS:-2000}"
PG="${SIZING_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin exception-worker
  BIN=target/release/exception-worker
fi
unset KAFKA_BOOTSTRAP_SERVERS
export CONFIG_DIR=config RUST_LOG=warn CONCURRENCY=4
DIR="$(mktemp -d)"
DB_NAME="ew_sizing_$$"
cleanup() {
  rm -rf "$DIR"
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# SQLite: the file after a checkpoint, minus the file with the schema only.
SQLITE_URL="sqlite://$DIR/sizing.db?mode=rwc"
DATABASE_URL="$SQLITE_URL" "$BIN" migrate
empty=$(python3 -c "import sqlite3,os; c=sqlite3.connect('$DIR/sizing.db'); c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); print(os.path.getsize('$DIR/sizing.db'))")
DATABASE_URL="$SQLITE_URL" "$BIN" bench --exceptions "$N" >/dev/null
full=$(python3 -c "import sqlite3,os; c=sqlite3.connect('$DIR/sizing.db'); c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); print(os.path.getsize('$DIR/sizing.db'))")
echo "sqlite: $(( (full - empty) / N )) bytes per exception ($N exceptions, $(( full - empty )) bytes)"

# Postgres: pg_database_size after the run minus after the migrations.
psql "$PG/postgres" -qc "CREATE DATABASE $DB_NAME" >/dev/null
DATABASE_URL="$PG/$DB_NAME" "$BIN" migrate
psql "$PG/$DB_NAME" -qc "VACUUM" >/dev/null
empty=$(psql "$PG/$DB_NAME" -tAc "SELECT pg_database_size(current_database())")
DATABASE_URL="$PG/$DB_NAME" "$BIN" bench --exceptions "$N" >/dev/null
psql "$PG/$DB_NAME" -qc "VACUUM" >/dev/null
full=$(psql "$PG/$DB_NAME" -tAc "SELECT pg_database_size(current_database())")
echo "postgres: $(( (full - empty) / N )) bytes per exception ($N exceptions, $(( full - empty )) bytes)"

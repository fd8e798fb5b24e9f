#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md, on this machine: throughput against CONCURRENCY (embedded
# default, and Kafka + Postgres), against the number of worker processes (Kafka + Postgres),
# latency against load, and the --baseline relay on each bus. Results: bench-results/*.jsonl,
# plot: bench-results/throughput.png (matplotlib, installed into .tools/venv-bench).
#
#   scripts/bench.sh            everything (about 10-15 minutes on 2 cores)
#   BENCH_EXCEPTIONS=1000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N="${BENCH_EXCEPTIONS:-2000}"
# The broker for the Kafka series; the embedded series must not see it.
BROKER="${KAFKA_BOOTSTRAP_SERVERS:-}"
unset KAFKA_BOOTSTRAP_SERVERS DATABASE_URL
OUT=bench-results
mkdir -p "$OUT"
# BENCH_PARTS picks the series to (re)run; the others keep their earlier results.
PARTS="${BENCH_PARTS:-embedded kafka instances latency topology}"
wants() { [[ " $PARTS " == *" $1 "* ]]; }

echo "==> cargo build --release" >&2
cargo build --release --quiet
BIN="$(pwd)/target/release/exception-worker"
DATA="$(mktemp -d)"
pids=() # worker processes of the instances and topology series, stopped on any exit
trap 'if [ "${#pids[@]}" -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi; rm -rf "$DATA"' EXIT

bench() { # label, then env assignments and flags
  local label="$1"; shift
  echo "==> $label" >&2
  # "|" as the delimiter: labels may hold a "/" ("topology steady 5/s").
  env DATA_DIR="$DATA" RUST_LOG=warn "$@" | sed "s|^{|{\"label\":\"$label\",|"
}

# 1. Embedded default (SQLite + in-database bus), one process with every role.
if wants embedded; then
rm -f "$OUT/embedded.jsonl"
for concurrency in 1 2 4 8; do
  bench "embedded c=$concurrency" CONCURRENCY=$concurrency "$BIN" bench --exceptions "$N" >> "$OUT/embedded.jsonl"
done
bench "embedded baseline c=4" CONCURRENCY=4 "$BIN" bench --exceptions "$N" --baseline >> "$OUT/embedded.jsonl"
fi

# 2. Kafka (tansu, co-located) + Postgres (the local server), one process with every role.
BROKER="${BROKER:-$(scripts/kafka-broker.sh start)}"
PG_BASE="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
kafka_env() { # database name
  echo "KAFKA_BOOTSTRAP_SERVERS=$BROKER KAFKA_SESSION_TIMEOUT_MS=6000 KAFKA_CONFIG_FETCH_WAIT_MAX_MS=10" \
    "KAFKA_CONFIG_LINGER_MS=1 KAFKA_TOPIC_PREFIX=bench$RANDOM. DATABASE_URL=$PG_BASE/$1"
}
fresh_db() {
  psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}
if wants kafka; then
rm -f "$OUT/kafka.jsonl"
for concurrency in 1 2 4 8; do
  fresh_db bench_kafka
  # shellcheck disable=SC2046
  bench "kafka c=$concurrency" $(kafka_env bench_kafka) CONCURRENCY=$concurrency "$BIN" bench --exceptions "$N" >> "$OUT/kafka.jsonl"
done
fresh_db bench_kafka
# shellcheck disable=SC2046
bench "kafka baseline c=4" $(kafka_env bench_kafka) CONCURRENCY=4 "$BIN" bench --exceptions "$N" --baseline >> "$OUT/kafka.jsonl"
fi

# 3. Kafka + Postgres, 1..3 worker processes (--roles all, CONCURRENCY=2 each), the bench
#    process only ingesting and measuring.
if wants instances; then
rm -f "$OUT/instances.jsonl"
for instances in 1 2 3; do
  fresh_db bench_scale
  # shellcheck disable=SC2046
  set -- $(kafka_env bench_scale)
  # Migrate once: several workers migrating one fresh database at the same time would race.
  env "$@" RUST_LOG=warn "$BIN" migrate
  # Fresh consumer groups for each run, like the topics: a group whose earlier members were
  # stopped can stay without an assignment on tansu for minutes.
  group="bench-scale-$RANDOM"
  pids=()
  for index in $(seq 1 "$instances"); do
    env "$@" RUN_MIGRATIONS=false CONCURRENCY=2 GROUP_ID="$group" HTTP_ADDR="127.0.0.1:$((18500 + index))" RUST_LOG=warn \
      "$BIN" --roles intake,triage,policy,playbook,tool,feedback > "$DATA/worker-$index.log" 2>&1 &
    pids+=("$!")
  done
  sleep 15 # joining the groups: tansu answers JoinGroup after half the session timeout
  bench "kafka instances=$instances" "$@" "$BIN" bench --exceptions "$N" --external-workers >> "$OUT/instances.jsonl"
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
done
fi

# 4. Latency against load at CONCURRENCY=4: fractions of the maximum measured above, on the
#    embedded default and on Kafka + Postgres.
if wants latency; then
rm -f "$OUT/latency.jsonl"
max=$(python3 -c "import json;rows=[json.loads(l) for l in open('$OUT/embedded.jsonl')];print(max(r['exceptions_per_second'] for r in rows if r['mode']=='terminal' and r['concurrency']==4))")
for fraction in 0.25 0.5 0.75; do
  rate=$(python3 -c "print(round($max*$fraction,1))")
  bench "embedded load=$fraction" CONCURRENCY=4 "$BIN" bench --exceptions "$N" --rate "$rate" >> "$OUT/latency.jsonl"
done
rm -f "$OUT/kafka-latency.jsonl"
max=$(python3 -c "import json;rows=[json.loads(l) for l in open('$OUT/kafka.jsonl')];print(max(r['exceptions_per_second'] for r in rows if r['mode']=='terminal' and r['concurrency']==4))")
for fraction in 0.25 0.5; do
  rate=$(python3 -c "print(round($max*$fraction,1))")
  fresh_db bench_kafka
  # shellcheck disable=SC2046
  bench "kafka load=$fraction" $(kafka_env bench_kafka) CONCURRENCY=4 "$BIN" bench --exceptions "$N" --rate "$rate" >> "$OUT/kafka-latency.jsonl"
done
fi

# 5. The scaling guide's topology on Kafka + Postgres: three processes, WORKER_TYPE=intake,
#    triage and policy, CONCURRENCY=4 each; a 2,000-exception backlog through policy, then a
#    steady 5 exceptions/s for 60 s. Worker CPU per exception is the three processes' user +
#    system time over the backlog run, divided by the exceptions.
cpu_of() { awk -v ticks="$(getconf CLK_TCK)" '{ split($0, f, ") "); split(f[2], s, " "); printf "%.3f", (s[12] + s[13]) / ticks }' "/proc/$1/stat"; }
if wants topology; then
rm -f "$OUT/topology.jsonl"
fresh_db bench_topology
# shellcheck disable=SC2046
set -- $(kafka_env bench_topology)
env "$@" RUST_LOG=warn "$BIN" migrate
pids=()
run="$RANDOM" # fresh consumer groups, as in the instances series
for role in intake triage policy; do
  env "$@" RUN_MIGRATIONS=false WORKER_TYPE="$role" CONCURRENCY=4 GROUP_ID="$role-workers-$run" \
    HTTP_ADDR="127.0.0.1:$((18700 + ${#pids[@]}))" RUST_LOG=warn "$BIN" > "$DATA/topology-$role.log" 2>&1 &
  pids+=("$!")
done
sleep 15 # joining the groups
before=0; for pid in "${pids[@]}"; do before=$(python3 -c "print($before + $(cpu_of "$pid"))"); done
report="$(env "$@" RUST_LOG=warn "$BIN" bench --exceptions 2000 --until policy --external-workers)"
after=0; for pid in "${pids[@]}"; do after=$(python3 -c "print($after + $(cpu_of "$pid"))"); done
cpu_ms=$(python3 -c "print(round(1000 * ($after - $before) / 2000, 3))")
echo "$report" | sed "s/^{/{\"label\":\"topology backlog\",\"worker_cpu_ms_per_exception\":$cpu_ms,/" >> "$OUT/topology.jsonl"
bench "topology steady 5/s" "$@" "$BIN" bench --exceptions 300 --rate 5 --until policy --external-workers >> "$OUT/topology.jsonl"
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
fi

# 6. The plot.
if [ ! -x .tools/venv-bench/bin/python ]; then
  python3 -m venv .tools/venv-bench
  .tools/venv-bench/bin/pip install --quiet matplotlib
fi
.tools/venv-bench/bin/python scripts/plot_bench.py "$OUT"
echo "results in $OUT/" >&2

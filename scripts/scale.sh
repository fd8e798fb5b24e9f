#!/usr/bin/env bash
# The scaling harness: 1, 2 and 4 worker processes on Kafka + Postgres, each process in a cgroup
# of its own capped at a quarter of a core (cgroup v1 cpu controller; the broker, Postgres and
# the load generator run uncapped), each running the guide's first three roles
# (--roles intake,triage,policy) in one consumer group per role. For each count it ingests a
# backlog, measures exceptions/s through policy, and reads each process's CPU time and the
# events it handled, so a process doing more than its share (a serial point) shows.
#
#   scripts/scale.sh                         1, 2 and 4 processes, 2,000 exceptions each run
#   SCALE_PROCESSES="1 2" SCALE_EXCEPTIONS=1000 scripts/scale.sh
#
# Needs root (cgroups) and the local Postgres; starts a tansu broker with scripts/kafka-broker.sh
# unless KAFKA_BOOTSTRAP_SERVERS names one. Results: bench-results/scale.jsonl and a table on
# stdout; the plot: bench-results/scale.png.
set -euo pipefail
cd "$(dirname "$0")/.."

PROCESSES="${SCALE_PROCESSES:-1 2 4}"
N="${SCALE_EXCEPTIONS:-2000}"
QUOTA_US="${SCALE_CPU_QUOTA_US:-25000}" # of a 100000 us period: a quarter of a core
PARTITIONS=12
CONCURRENCY="${SCALE_CONCURRENCY:-4}"
CGROUP_ROOT=/sys/fs/cgroup/cpu
PG_BASE="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
OUT=bench-results
mkdir -p "$OUT"

if [ "$(id -u)" != 0 ] || [ ! -w "$CGROUP_ROOT" ]; then
  echo "scale.sh needs root and the cgroup v1 cpu controller at $CGROUP_ROOT" >&2
  exit 1
fi

echo "==> cargo build --release" >&2
cargo build --release --quiet --bin exception-worker
BIN="$(pwd)/target/release/exception-worker"
BROKER="${KAFKA_BOOTSTRAP_SERVERS:-$(scripts/kafka-broker.sh start)}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  if [ "${#PIDS[@]}" -gt 0 ]; then
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  for group in "$CGROUP_ROOT"/ew-scale-*; do
    [ -d "$group" ] && rmdir "$group" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  awk -v ticks="$(getconf CLK_TCK)" '{ split($0, f, ") "); split(f[2], s, " "); printf "%.3f", (s[12] + s[13]) / ticks }' "/proc/$1/stat"
}

# Events a worker has handled (processed or duplicate), every role together.
events_handled() {
  curl -s "http://127.0.0.1:$1/metrics" |
    awk '/^exception_worker_events_processed_total\{/ && !/outcome="dead_lettered"/ { sum += $NF } END { printf "%d", sum }'
}

# Partitions a worker holds, every role together.
assigned() {
  curl -s "http://127.0.0.1:$1/metrics" |
    awk '/^exception_worker_assigned_partitions\{/ { sum += $NF } END { printf "%d", sum }'
}

rm -f "$OUT/scale.jsonl"
for count in $PROCESSES; do
  database="bench_scale_$count"
  psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" >/dev/null
  prefix="scale$RANDOM."
  export KAFKA_BOOTSTRAP_SERVERS="$BROKER" KAFKA_SESSION_TIMEOUT_MS=6000 KAFKA_CONFIG_FETCH_WAIT_MAX_MS=10 \
    KAFKA_TOPIC_PREFIX="$prefix" KAFKA_TOPIC_PARTITIONS="$PARTITIONS" DATABASE_URL="$PG_BASE/$database" \
    RUST_LOG=warn
  "$BIN" migrate
  # Fresh consumer groups for each run, like the topics: a group whose earlier members were
  # stopped can stay without an assignment on tansu for minutes.
  consumer_group="scale$RANDOM"
  PIDS=()
  ports=()
  for index in $(seq 1 "$count"); do
    group="$CGROUP_ROOT/ew-scale-$index"
    mkdir -p "$group"
    echo 100000 >"$group/cpu.cfs_period_us"
    echo "$QUOTA_US" >"$group/cpu.cfs_quota_us"
    port=$((18600 + index))
    ports+=("$port")
    # The shell joins the cgroup, then becomes the worker: every thread it starts is capped.
    RUN_MIGRATIONS=false CONCURRENCY="$CONCURRENCY" GROUP_ID="$consumer_group" HTTP_ADDR="127.0.0.1:$port" \
      sh -c "echo \$\$ > $group/cgroup.procs && exec $BIN --roles intake,triage,policy" \
      >"$WORK/worker-$index.log" 2>&1 &
    PIDS+=("$!")
  done
  # Every partition of the three roles' topics held by exactly one process, 3 x PARTITIONS in
  # all, for 5 s in a row: more than that means a rebalance is still under way and two
  # processes hold the same partitions (each handles every event of them).
  stable=0
  for _ in $(seq 1 120); do
    held=0
    for port in "${ports[@]}"; do held=$((held + $(assigned "$port" || echo 0))); done
    if [ "$held" -eq $((3 * PARTITIONS)) ]; then stable=$((stable + 1)); else stable=0; fi
    [ "$stable" -ge 5 ] && break
    sleep 1
  done
  if [ "$stable" -lt 5 ]; then
    echo "partitions held: $held, not $((3 * PARTITIONS)) for 5 s, after 120 s" >&2
    exit 1
  fi
  sleep 3
  before_cpu=()
  before_events=()
  for index in $(seq 0 $((count - 1))); do
    before_cpu+=("$(cpu_seconds "${PIDS[$index]}")")
    before_events+=("$(events_handled "${ports[$index]}")")
  done
  report="$("$BIN" bench --exceptions "$N" --until policy --external-workers)"
  per_process="["
  for index in $(seq 0 $((count - 1))); do
    cpu=$(python3 -c "print(round($(cpu_seconds "${PIDS[$index]}") - ${before_cpu[$index]}, 3))")
    events=$(( $(events_handled "${ports[$index]}") - ${before_events[$index]} ))
    [ "$index" -gt 0 ] && per_process+=","
    per_process+="{\"cpu_seconds\":$cpu,\"events\":$events}"
  done
  per_process+="]"
  echo "{\"processes\":$count,\"cpu_quota_us\":$QUOTA_US,\"concurrency\":$CONCURRENCY,\"per_process\":$per_process,\"bench\":$report}" >>"$OUT/scale.jsonl"
  kill "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
done

python3 - "$OUT/scale.jsonl" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
base = next((row["bench"]["exceptions_per_second"] for row in rows if row["processes"] == 1), None)
print("| processes | exceptions/s | ratio to one | CPU ms per exception, each process (3 events = 1 exception) | worst / average |")
print("|---|---|---|---|---|")
for row in rows:
    rate = row["bench"]["exceptions_per_second"]
    costs = [1000 * p["cpu_seconds"] / (p["events"] / 3) for p in row["per_process"] if p["events"] > 0]
    average = sum(costs) / len(costs) if costs else 0
    worst = max(costs) / average if average else 0
    ratio = f"{rate / base:.2f}x" if base else "-"
    print(f"| {row['processes']} | {rate:.1f} | {ratio} | {', '.join(f'{c:.2f}' for c in costs)} | {worst:.2f} |")
EOF
if [ ! -x .tools/venv-bench/bin/python ]; then
  python3 -m venv .tools/venv-bench
  .tools/venv-bench/bin/pip install --quiet matplotlib
fi
.tools/venv-bench/bin/python scripts/plot_scale.py "$OUT/scale.jsonl" "$OUT/scale.png"
echo "results in $OUT/scale.jsonl, plot in $OUT/scale.png" >&2

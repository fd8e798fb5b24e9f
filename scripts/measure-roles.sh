#!/usr/bin/env bash
# Measures RSS and CPU per role under a steady load, on the embedded default (one SQLite file,
# the in-database bus), for the resource table of docs/operations/scaling.md.
#
#   cargo build --release --bin exception-worker
#   scripts/measure-roles.sh                      # one process per role (the guide's layout)
#   MODE=all scripts/measure-roles.sh             # every role in one process (--roles all)
#
# Settings (environment): BIN (default target/release/exception-worker), RATE exceptions per
# second (default 50), SECONDS_OF_LOAD (default 120), MODE (roles | all).
# The load: RATE POST /v1/exceptions a second to the intake worker's API (one keep-alive
# connection, paced), a generated mix of the sample tenant's cases (auto-resolved price mismatches
# through a tool call, escalated unknowns, trade breaks, critical settlement fails waiting for a
# person). Each worker's CPU seconds
# (utime+stime from /proc/PID/stat) are counted from the first request until every consumer has
# caught up (minus the 5 quiet seconds that tell it); VmRSS (at the end) and VmHWM (peak) come from /proc/PID/status. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-target/release/exception-worker}"
RATE="${RATE:-50}"
SECONDS_OF_LOAD="${SECONDS_OF_LOAD:-120}"
MODE="${MODE:-roles}"
[ -x "$BIN" ] || { echo "build the binary first: cargo build --release --bin exception-worker" >&2; exit 1; }

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

export DATA_DIR="$WORK/data" CONFIG_DIR=config LOG_FORMAT=json RUST_LOG=warn
unset KAFKA_BOOTSTRAP_SERVERS DATABASE_URL WORKER_TYPE GROUP_ID CONCURRENCY
# Create the schema once, before several processes open the file.
"$BIN" migrate >/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# name  WORKER_TYPE  CONCURRENCY  GROUP_ID  (the scaling guide's settings, as in docker-compose.yml)
if [ "$MODE" = all ]; then
  SPECS=("all all 2 exception-workers")
else
  SPECS=(
    "intake intake 2 intake-workers"
    "triage triage 4 triage-workers"
    "policy policy 2 policy-workers"
    "playbook playbook 2 playbook-workers"
    "tool tool 4 tool-workers"
    "feedback feedback 2 feedback-workers"
    "sla_monitor sla_monitor 1 sla-monitors"
  )
fi
NAMES=()
PORTS=()
for spec in "${SPECS[@]}"; do
  read -r name role concurrency group <<<"$spec"
  port="$(free_port)"
  if [ "$role" = all ]; then
    CONCURRENCY="$concurrency" GROUP_ID="$group" HTTP_ADDR="127.0.0.1:$port" \
      "$BIN" --roles all >"$WORK/$name.log" 2>&1 &
  else
    WORKER_TYPE="$role" CONCURRENCY="$concurrency" GROUP_ID="$group" HTTP_ADDR="127.0.0.1:$port" \
      "$BIN" >"$WORK/$name.log" 2>&1 &
  fi
  PIDS+=("$!")
  NAMES+=("$name")
  PORTS+=("$port")
done
for i in "${!NAMES[@]}"; do
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:${PORTS[$i]}/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:${PORTS[$i]}/readyz" >/dev/null || {
    echo "${NAMES[$i]} did not become ready" >&2; cat "$WORK/${NAMES[$i]}.log" >&2; exit 1; }
done
sleep 2

metric_sum() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v name="$2" 'index($1, name) == 1 {sum += $2} END {print sum + 0}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
TICKS="$(getconf CLK_TCK)"
declare -A IDLE_RSS START_TICKS
for i in "${!NAMES[@]}"; do
  IDLE_RSS[$i]="$(status_kb "${PIDS[$i]}" VmRSS)"
  START_TICKS[$i]="$(cpu_ticks "${PIDS[$i]}")"
done

# The load: RATE exceptions a second for SECONDS_OF_LOAD seconds, POSTed to the intake
# worker's API (the first process), each request at its slot start + n / RATE.
START="$(date +%s.%N)"
python3 - "${PORTS[0]}" "$RATE" "$SECONDS_OF_LOAD" >"$WORK/load.txt" <<'PY'
import http.client, json, sys, time
port, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cases = [
    lambda n: {"exceptionId": f"LOAD-PM-{n}", "exceptionType": "PRICE_MISMATCH", "sourceSystem": "BLOOMBERG",
               "priceDiffBps": 12, "currency": "GBP", "traderName": "J. Smith"},
    lambda n: {"exceptionId": f"LOAD-XX-{n}", "error": "something odd happened"},
    lambda n: {"exceptionId": f"LOAD-TB-{n}", "errorCode": "NMAT", "error": "trade unmatched at CTM",
               "sourceSystem": "CTM", "amount": 750000, "currency": "EUR"},
    lambda n: {"exceptionId": f"LOAD-SF-{n}", "exceptionType": "SETTLEMENT_FAIL", "sourceSystem": "MUREX",
               "amount": 25000000, "currency": "USD", "accountNumber": "ACC-99812"},
]
headers = {"Authorization": "Bearer acme-demo-key", "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
start = time.time()
errors = 0
for n in range(rate * seconds):
    delay = start + n / rate - time.time()
    if delay > 0:
        time.sleep(delay)
    conn.request("POST", "/v1/exceptions", json.dumps(cases[n % len(cases)](n)), headers)
    response = conn.getresponse()
    response.read()
    if response.status != 202:
        errors += 1
took = time.time() - start
print(f"posted {rate * seconds} in {took:.1f}s ({rate * seconds / took:.1f}/s), {errors} not accepted")
PY

# Caught up: every consumer's lag and in-flight count at 0 and no event processed anywhere for 5
# polls in a row (a second apart: the embedded bus polls other processes' writes every second).
quiet=0
last=-1
for _ in $(seq 1 900); do
  busy=0
  processed=0
  for port in "${PORTS[@]}"; do
    busy=$((busy + $(metric_sum "$port" exception_worker_consumer_lag) + $(metric_sum "$port" exception_worker_in_flight_events)))
    processed=$((processed + $(metric_sum "$port" exception_worker_events_processed_total)))
  done
  if [ "$busy" = 0 ] && [ "$processed" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
  last="$processed"
  [ "$quiet" -ge 5 ] && break
  sleep 1
done
END="$(date +%s.%N)"

total=$((RATE * SECONDS_OF_LOAD))
printf 'load: %s exceptions at %s/s for %ss: %s; all consumers caught up %ss after the first\n' \
  "$total" "$RATE" "$SECONDS_OF_LOAD" "$(cat "$WORK/load.txt")" \
  "$(python3 -c "print(round($END - $START, 1))")"
echo "mode: $MODE (binary $BIN, embedded bus on SQLite, $(nproc) cores)"
printf '%-12s %-12s %10s %10s %10s %12s %10s %12s\n' name concurrency idle_rss_mb rss_mb hwm_mb cpu_seconds avg_cpu events
for i in "${!NAMES[@]}"; do
  pid="${PIDS[$i]}"
  ticks=$(( $(cpu_ticks "$pid") - START_TICKS[$i] ))
  events="$(metric_sum "${PORTS[$i]}" exception_worker_events_processed_total)"
  read -r _ _ concurrency _ <<<"${SPECS[$i]}"
  python3 - "${NAMES[$i]}" "$concurrency" "${IDLE_RSS[$i]}" "$(status_kb "$pid" VmRSS)" "$(status_kb "$pid" VmHWM)" \
    "$ticks" "$TICKS" "$START" "$END" "$events" <<'PY'
import sys
name, conc, idle, rss, hwm, ticks, hz, start, end, events = sys.argv[1:]
cpu = int(ticks) / int(hz)
wall = float(end) - float(start)
print(f"{name:<12} {conc:<12} {int(idle)/1024:>10.1f} {int(rss)/1024:>10.1f} {int(hwm)/1024:>10.1f} {cpu:>12.2f} {100*cpu/wall:>9.1f}% {events:>12}")
PY
done
for name in "${NAMES[@]}"; do
  errors="$(grep -c '"level":"ERROR"' "$WORK/$name.log" || true)"
  [ "$errors" = 0 ] || echo "$name logged $errors errors (first: $(grep -m1 '"level":"ERROR"' "$WORK/$name.log"))"
done
if command -v sqlite3 >/dev/null 2>&1; then
  echo "exceptions by status: $(sqlite3 "$DATA_DIR/exception-worker.db" \
    "select group_concat(status || ' ' || n, ', ') from (select status, count(*) n from exceptions group by status)")"
  echo "dead letters: $(sqlite3 "$DATA_DIR/exception-worker.db" \
    "select coalesce(sum(n), 0) || coalesce(' (' || group_concat(role || ' ' || n || ' x ' || reason, '; ') || ')', '') from (select role, reason, count(*) n from dead_letters group by role, reason)")"
fi

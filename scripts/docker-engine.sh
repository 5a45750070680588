#!/usr/bin/env bash
# Starts a Docker engine (Debian's docker.io `dockerd`) for the compose e2e when none answers, and stops only
# the one it started: `start` records its pid under the state directory, `stop` ends that pid and nothing
# else (an engine that was already running, or one started another way, is left alone).
#   scripts/docker-engine.sh start|stop|status
# State: ${OBSSTACK_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/obsstack}/dockerd/{dockerd.pid,dockerd.log}
# DOCKERD_ARGS (split on spaces) are passed to dockerd; with DOCKER_HOST they make a second, separate engine
# (--host, --data-root, --exec-root, --pidfile and a --bridge of its own: `--bridge none` makes dockerd delete
# docker0, the other engine's bridge), as the script's own test does.
set -euo pipefail
state="${OBSSTACK_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/obsstack}/dockerd"
pidfile="$state/dockerd.pid"
log="$state/dockerd.log"
start_timeout="${DOCKERD_START_TIMEOUT:-60}"
stop_timeout="${DOCKERD_STOP_TIMEOUT:-30}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

answers() { docker info >/dev/null 2>&1; }

ours() {  # the pid this script recorded, if that process still runs
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -o comm= -p "$pid")" in  # not a later process that reused the pid
    dockerd | sudo) echo "$pid" ;;
    *) return 1 ;;
  esac
}

start() {
  if answers; then
    echo "docker-engine: an engine answers already; not starting one"
    return 0
  fi
  if ! command -v dockerd >/dev/null; then
    echo "docker-engine: dockerd not found, expected Debian's docker.io; run scripts/install-system-deps.sh" >&2
    return 1
  fi
  mkdir -p "$state"
  # shellcheck disable=SC2086 # DOCKERD_ARGS is a list of words
  $sudo nohup dockerd ${DOCKERD_ARGS:-} >"$log" 2>&1 &
  echo $! >"$pidfile"
  local waited=0
  until answers; do
    if ! ours >/dev/null || [ "$waited" -ge "$start_timeout" ]; then
      echo "docker-engine: dockerd did not answer within ${waited}s; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      stop
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "docker-engine: dockerd started (pid $(cat "$pidfile"), log $log) in ${waited}s"
}

stop() {
  local pid
  if ! pid="$(ours)"; then
    rm -f "$pidfile"
    echo "docker-engine: no dockerd started by this script runs; nothing to stop"
    return 0
  fi
  $sudo kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge "$stop_timeout" ]; then
      echo "docker-engine: dockerd (pid $pid) still runs after ${stop_timeout}s; see $log" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
  echo "docker-engine: dockerd (pid $pid) stopped"
}

status() {
  local pid
  if pid="$(ours)"; then echo "docker-engine: dockerd started by this script runs (pid $pid)"
  elif answers; then echo "docker-engine: an engine answers (not started by this script)"
  else echo "docker-engine: no engine answers"; return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs the system packages obsstack's tests use (Debian/Ubuntu): a PostgreSQL server the tests start
# throw-away clusters of, and for the compose e2e (`make compose-e2e`) a Docker engine (Debian's docker.io:
# dockerd, started by scripts/docker-engine.sh), debootstrap (the demo's local Python base image) and
# busybox-static (the shell and wget of the stand-in images; no image registry is used). Prometheus, promtool, Alertmanager, amtool, the collector, kubectl and cortextool
# are not system packages here: `obsstack components build` builds them at the versions stack.yaml pins
# (Debian's prometheus packages are older releases, so they are neither installed nor used).
# Does nothing when everything is already there.
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q " installed" || need+=(busybox-static)
command -v chromium >/dev/null || need+=(chromium)  # `obsstack report --screenshot`: the verify report as a PNG
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if ! command -v apt-get >/dev/null; then
  echo "missing: ${need[*]}; install them with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

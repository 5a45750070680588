#!/usr/bin/env bash
# Installs the system packages obsstack's tests use (Debian/Ubuntu): a PostgreSQL server the tests start
# throw-away clusters of. Prometheus, promtool, Alertmanager, amtool, the collector, kubectl and cortextool
# are not system packages here: `obsstack components build` builds them at the versions stack.yaml pins
# (Debian's prometheus packages are older releases, so they are neither installed nor used).
# Does nothing when everything is already there.
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
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

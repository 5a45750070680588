#!/usr/bin/env bash
# Fails when the Go module cache or obsstack's component cache holds AGPL-licensed software obsstack must
# never fetch or build: Grafana (and its nested modules), Loki, Tempo, Mimir (mimirtool included) and
# grafana/dashboard-linter (which requires Grafana). Run by `make test` after the components are built.
set -euo pipefail
modcache="$(go env GOMODCACHE 2>/dev/null || echo "${GOPATH:-$HOME/go}/pkg/mod")"
cache="${OBSSTACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/obsstack}"
found=()
for module in grafana loki tempo mimir dashboard-linter; do
  for dir in "$modcache/github.com/grafana/$module"@* "$modcache/cache/download/github.com/grafana/$module" \
             "$modcache/github.com/grafana/$module"; do
    [ -e "$dir" ] && found+=("$dir")
  done
done
for name in loki tempo mimir mimirtool grafana; do
  for dir in "$cache/components/$name"-*; do
    [ -e "$dir" ] && found+=("$dir")
  done
done
if [ ${#found[@]} -ne 0 ]; then
  printf 'AGPL software found (obsstack never fetches or builds it; remove it):\n' >&2
  printf '  %s\n' "${found[@]}" >&2
  exit 1
fi
echo "licences: no Grafana, Loki, Tempo, Mimir or dashboard-linter module or build in $modcache or $cache"

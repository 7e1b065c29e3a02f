#!/usr/bin/env bash
# Local MongoDB wire-protocol server for tests: FerretDB 1.24 embedded in
# test/ferretdb (SQLite backend, no Docker/MongoDB needed).
#
#   scripts/mongo-test.sh               build if needed, then serve in the
#                                       foreground on 127.0.0.1:${MONGO_PORT:-27017}
#   scripts/mongo-test.sh --build-only  just (re)build the cached binary
#
# Env: MONGO_PORT, FERRETDB_DATA_DIR (default: temp dir removed on exit),
#      FERRETDB_LOG_LEVEL (default error).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/throwaway.sh
source "$root/scripts/lib/throwaway.sh"
src="$root/test/ferretdb"
bin="$root/.cache/ferretdb/ferretdb"

build_only=0
case "${1:-}" in
  --build-only) build_only=1 ;;
  "") ;;
  *) echo "usage: $0 [--build-only]" >&2; exit 2 ;;
esac

if needs_go_build "$src" "$bin"; then
  go_cmd="$(go_command)"
  if [[ -z "$go_cmd" ]]; then
    echo "mongo-test: Go toolchain not found (need go >= 1.24 on PATH or /usr/local/go/bin/go) to build FerretDB" >&2
    exit 3
  fi
  mkdir -p "$(dirname "$bin")"
  echo "mongo-test: building FerretDB into ${bin#"$root"/} (first build takes a few minutes)..." >&2
  # No PostgreSQL handler needed: smaller binary, faster build. CGO off: the
  # SQLite driver (modernc.org/sqlite) is pure Go. Build to a temp name so an
  # interrupted build never leaves a half-written binary that looks fresh.
  (cd "$src" && CGO_ENABLED=0 "$go_cmd" build -trimpath -tags ferretdb_no_postgresql -o "$bin.tmp" .)
  mv -f "$bin.tmp" "$bin"
fi

if (( build_only )); then
  exit 0
fi

exec "$bin"

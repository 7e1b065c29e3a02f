#!/usr/bin/env bash
# Run a command against a throwaway FerretDB (see mongo-test.sh):
#
#   scripts/with-ferretdb.sh <command...>
#
# Starts FerretDB in the background on 127.0.0.1:$MONGO_PORT (default: a free
# port chosen by the kernel), exports MONGO_URL=mongodb://127.0.0.1:PORT/, runs
# the command, stops FerretDB and exits with the command's exit code.
set -euo pipefail

if (( $# == 0 )); then
  echo "usage: $0 <command...>" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/throwaway.sh
source "$root/scripts/lib/throwaway.sh"
"$root/scripts/mongo-test.sh" --build-only

throwaway_start ferretdb

# Port 0 lets the kernel pick a free port atomically (no probe-then-bind race
# between parallel runs); the binary prints the real port in its ready line.
# Data goes to $work so it is removed even if FerretDB is killed hard.
MONGO_PORT="${MONGO_PORT:-0}" FERRETDB_DATA_DIR="$work/data" \
  "$root/.cache/ferretdb/ferretdb" >"$log" 2>&1 &
server_pid=$!

url=""
for (( i = 0; i < 600; i++ )); do   # 600 x 0.1 s = 60 s
  url="$(sed -n 's/^ferretdb ready \(mongodb:[^ ]*\)$/\1/p' "$log")"
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done

throwaway_up_or_fail with-ferretdb FerretDB "$url"

export MONGO_URL="$url"
echo "with-ferretdb: $MONGO_URL" >&2

run_then_exit "$@"

#!/usr/bin/env bash
# Run a command against a throwaway Mailpit (an SMTP server that keeps what it receives and shows
# it over HTTP), for the e-mail tests:
#
#   scripts/with-mailpit.sh <command...>
#   scripts/with-mailpit.sh --build        (builds it and exits)
#
# Builds Mailpit once from the Go module proxy at the pinned version into .cache/mailpit, starts it
# on free SMTP and HTTP ports on 127.0.0.1, exports MAILPIT_SMTP_PORT and MAILPIT_API_URL, runs the
# command, stops Mailpit and exits with the command's exit code.
set -euo pipefail

if (( $# == 0 )); then
  echo "usage: $0 <command...>   (or --build: only build it, e.g. ahead of time in CI)" >&2
  exit 2
fi

# Pinned: the tests read Mailpit's HTTP API, whose shape is this version's.
version="v1.33.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/throwaway.sh
source "$root/scripts/lib/throwaway.sh"
bin="$root/.cache/mailpit/mailpit"
stamp="$bin.version"

# The binary does not say its module version (a `go install` build reports "dev"), so a stamp
# beside it records which one was built; a missing or other stamp rebuilds.
if [[ ! -x "$bin" || "$(cat "$stamp" 2>/dev/null || true)" != "$version" ]]; then
  go_cmd="$(go_command)"
  if [[ -z "$go_cmd" ]]; then
    echo "with-mailpit: Go toolchain not found (need go on PATH or /usr/local/go/bin/go) to build Mailpit" >&2
    exit 3
  fi
  mkdir -p "$(dirname "$bin")"
  echo "with-mailpit: building Mailpit $version into ${bin#"$root"/} (takes several minutes the first time)..." >&2
  # Built into a temp GOBIN so an interrupted build never leaves a half-written binary that looks fresh.
  gobin="$(mktemp -d "${TMPDIR:-/tmp}/mailpit-build.XXXXXX")"
  CGO_ENABLED=0 GOBIN="$gobin" "$go_cmd" install -trimpath "github.com/axllent/mailpit@$version"
  mv -f "$gobin/mailpit" "$bin"
  rm -rf "$gobin"
  echo "$version" >"$stamp"
fi

if [[ "$1" == "--build" ]]; then exit 0; fi

throwaway_start mailpit

# Mailpit does not report the port the kernel gives it for port 0, so two free ports are found
# first; another process may take one in between, so a start that fails is tried again.
free_ports() {
  node -e '
    const net = require("node:net");
    const one = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
    Promise.all([one(), one()]).then(([a, b]) => console.log(a, b));'
}

api=""
for (( attempt = 0; attempt < 5; attempt++ )); do
  [[ -n "$api" ]] && break
  read -r smtp_port http_port < <(free_ports)
  # Any user and password are accepted on plain SMTP, so the client's AUTH path is exercised too.
  "$bin" --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$http_port" --database "$work/mailpit.db" \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --disable-version-check >"$log" 2>&1 &
  server_pid=$!
  for (( i = 0; i < 300; i++ )); do   # 300 x 0.1 s = 30 s
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    if node -e 'fetch(process.argv[1] + "/api/v1/info").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$http_port"; then
      api="http://127.0.0.1:$http_port"
      break
    fi
    sleep 0.1
  done
  if [[ -z "$api" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
done

throwaway_up_or_fail with-mailpit Mailpit "$api"

export MAILPIT_SMTP_PORT="$smtp_port"
export MAILPIT_API_URL="$api"
echo "with-mailpit: SMTP 127.0.0.1:$MAILPIT_SMTP_PORT, API $MAILPIT_API_URL" >&2

run_then_exit "$@"

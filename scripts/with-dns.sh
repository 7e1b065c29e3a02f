#!/usr/bin/env bash
# Run a command against a throwaway DNS server (test/dns) whose TXT records the tests publish at run
# time, for the domain verification tests:
#
#   scripts/with-dns.sh <command...>
#   scripts/with-dns.sh --build        (builds it and exits)
#
# Builds test/dns from the Go module proxy into .cache/dns/dnsd when missing or older than its
# sources, starts it on free ports on 127.0.0.1, exports DNS_DOH_URL (its DNS over HTTPS endpoint),
# DNS_CONTROL_URL (where records are published) and DNS_UDP_ADDR (host:port of plain DNS over
# UDP and TCP, for dig), runs the command, stops the server and exits with the command's exit code.
set -euo pipefail

if (( $# == 0 )); then
  echo "usage: $0 <command...>   (or --build: only build it, e.g. ahead of time in CI)" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/throwaway.sh
source "$root/scripts/lib/throwaway.sh"
src="$root/test/dns"
bin="$root/.cache/dns/dnsd"

if needs_go_build "$src" "$bin"; then
  go_cmd="$(go_command)"
  if [[ -z "$go_cmd" ]]; then
    echo "with-dns: Go toolchain not found (need go >= 1.25 on PATH or /usr/local/go/bin/go) to build the DNS server" >&2
    exit 3
  fi
  mkdir -p "$(dirname "$bin")"
  echo "with-dns: building test/dns into ${bin#"$root"/}..." >&2
  # Built to a temp name so an interrupted build never leaves a half-written binary that looks fresh.
  (cd "$src" && CGO_ENABLED=0 "$go_cmd" build -trimpath -o "$bin.tmp" .)
  mv -f "$bin.tmp" "$bin"
fi

if [[ "$1" == "--build" ]]; then exit 0; fi

throwaway_start dns

# Port 0 everywhere: the kernel picks free ports atomically and the ready line names them.
"$bin" >"$log" 2>&1 &
server_pid=$!

ready=""
for (( i = 0; i < 300; i++ )); do   # 300 x 0.1 s = 30 s
  ready="$(grep -m1 '^{"msg":"dns listening"' "$log" || true)"
  [[ -n "$ready" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done

throwaway_up_or_fail with-dns "the DNS server" "$ready"

DNS_DOH_URL="$(sed -n 's/.*"doh":"\([^"]*\)".*/\1/p' <<<"$ready")"
DNS_CONTROL_URL="$(sed -n 's/.*"control":"\([^"]*\)".*/\1/p' <<<"$ready")"
DNS_UDP_ADDR="$(sed -n 's/.*"udp":"\([^"]*\)".*/\1/p' <<<"$ready")"
export DNS_DOH_URL DNS_CONTROL_URL DNS_UDP_ADDR
echo "with-dns: DoH $DNS_DOH_URL, records $DNS_CONTROL_URL/records, plain DNS $DNS_UDP_ADDR (dig @${DNS_UDP_ADDR%:*} -p ${DNS_UDP_ADDR##*:})" >&2

run_then_exit "$@"

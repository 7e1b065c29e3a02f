#!/usr/bin/env bash
# npm run test:mongo: the MongoDB suites, on FerretDB (see mongo-test.sh; needs Go the first time).
#
#   1. builds the gateway bundle and starts FerretDB on a free port (with-ferretdb.sh),
#   2. starts the gateway on a free port with a random key and waits for /health,
#   3. runs the workerd suites with DATA_API_URL/DATA_API_KEY set, so the Worker suite and the
#      gateway contract suite go through the gateway (vitest.config.ts passes them on),
#   4. runs the gateway's Node-side tests (vitest.gateway.config.ts),
#   5. stops the gateway and FerretDB, and exits non-zero if any suite failed.
#
# Arguments are passed to both vitest runs (e.g. a file filter).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Node 22 from the `node` dev dependency: the build script relies on its type stripping.
export PATH="$root/node_modules/.bin:$PATH"

if [[ -z "${TEST_MONGO_INSIDE:-}" ]]; then
  node scripts/docs-assets.mjs
  node gateway/build.ts
  TEST_MONGO_INSIDE=1 exec "$root/scripts/with-ferretdb.sh" bash "$0" "$@"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/test-mongo.XXXXXX")"
log="$work/gateway.log"
gateway=""
cleanup() {
  if [[ -n "$gateway" ]] && kill -0 "$gateway" 2>/dev/null; then
    kill -TERM "$gateway" 2>/dev/null || true
    wait "$gateway" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

key="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))')"
# The TTL monitor looks every half second, so expiry tests wait for it briefly (MongoDB: a minute).
GATEWAY_TTL_INTERVAL_MS=500 GATEWAY_API_KEY="$key" HOST=127.0.0.1 PORT=0 node dist/gateway/server.mjs >"$log" 2>&1 &
gateway=$!

url=""
for (( i = 0; i < 300; i++ )); do   # 300 x 0.1 s = 30 s
  url="$(sed -n 's/.*"msg":"gateway listening","url":"\([^"]*\)".*/\1/p' "$log")"
  if [[ -n "$url" ]] && node -e 'fetch(process.argv[1] + "/health").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"; then
    break
  fi
  url=""
  kill -0 "$gateway" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "test-mongo: the gateway did not become healthy; its log:" >&2
  sed 's/^/  /' "$log" >&2
  exit 1
fi
echo "test-mongo: gateway $url on $MONGO_URL" >&2

status=0
echo "== Worker and contract suites (workerd), data through the gateway" >&2
# DATA_API_SERVER tells the contract suite which values this server cannot store.
DATA_API_URL="$url" DATA_API_KEY="$key" DATA_API_SERVER=ferretdb vitest run "$@" || status=1
echo "== gateway process tests (Node)" >&2
vitest run --config vitest.gateway.config.ts "$@" || status=1

# Internal errors are answered as bare 500s; their detail is only in the gateway's log.
if grep -q '"msg":"internal error"' "$log"; then
  echo "test-mongo: the gateway logged internal errors:" >&2
  grep '"msg":"internal error"' "$log" | head -20 | sed 's/^/  /' >&2
fi
exit "$status"

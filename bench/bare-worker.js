// The bench's reference Worker, run by the same `wrangler dev` as the service:
//   GET /         a fixed JSON body from memory: the most this runtime serves on this machine
//   GET /pbkdf2   one PBKDF2-HMAC-SHA256 derivation exactly as login verifies a password
//                 (WebCrypto, 16-byte salt, 32-byte key), so login is compared with its own cost
//   GET /logged   the fixed body plus one JSON console.log line shaped like the service's, to
//                 show what a log line costs under `wrangler dev` (it travels to Node through
//                 the inspector protocol; deployed Workers hand it to Workers Logs instead)
const BODY = JSON.stringify({
  organization_name: "TestOrg",
  collection_name: "org_testorg",
  status: "active",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
});

// Deployed Workers refuse PBKDF2 above 100,000 iterations, the service's configured cost.
const MAX_ITERATIONS = 100_000;
const password = new TextEncoder().encode("Test1234");

const pbkdf2 = async (iterations) => {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
};

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/pbkdf2") {
      const iterations = Math.min(Number(url.searchParams.get("iterations")) || MAX_ITERATIONS, MAX_ITERATIONS);
      const bits = await pbkdf2(iterations);
      return Response.json({ iterations, bytes: bits.byteLength });
    }
    if (url.pathname === "/logged") {
      const line = { request_id: crypto.randomUUID(), method: request.method, route: "/logged", status: 200, duration_ms: 0, data_round_trips: 0 };
      console.log(JSON.stringify(line));
    }
    return new Response(BODY, { headers: { "content-type": "application/json" } });
  },
};

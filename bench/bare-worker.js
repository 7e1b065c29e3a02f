// The bench's reference Worker: the unavoidable work of each endpoint, and nothing else. Run by
// the same runtime as the service in each mode (wrangler dev, and workerd as production runs it):
//   GET /          a fixed JSON body from memory: the most this runtime serves on this machine
//   GET /logged    the fixed body plus one JSON console.log line shaped like the service's: the
//                  ceiling of an endpoint that must log each request
//   GET /pbkdf2    one PBKDF2-HMAC-SHA256 derivation exactly as login verifies a password
//                  (WebCrypto, 16-byte salt, 32-byte key) and one log line: login's ceiling
//   GET /pbkdf2?throttle=1  the same after one count of the per-client throttle (the Rate
//                  Limiting binding login counts every password check against), which under
//                  Miniflare is an HTTP call into a Durable Object of its own
//   GET /store     /logged plus one call into a Durable Object over fetch (a JSON body in, one
//                  SQLite read by primary key, a JSON body out): what one data round trip costs,
//                  to split the service's CPU by part
//   GET /store-rpc the same call as an RPC method on the object's stub, no Request or Response:
//                  GET /org/get's ceiling (a log line and one read of the organization, which
//                  no cache may answer)
//   GET /store-rpc?headed=1  the same answer with the headers every answer of the service
//                  carries (the security headers, its request id, its data round trips): what
//                  they cost, to split the service's CPU by part
import { DurableObject } from "cloudflare:workers";

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

/** Logs one line and answers the request id it logged, which the service also sends as `x-request-id`. */
const logLine = (request, route, roundTrips) => {
  const line = { request_id: crypto.randomUUID(), method: request.method, route, status: 200, duration_ms: 0, data_round_trips: roundTrips };
  console.log(JSON.stringify(line));
  return line.request_id;
};

/** The service's security headers (src/http/security-headers.ts; test/node/bench-headers.test.ts keeps them alike). */
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
};

const QUERY = { dataSource: "bench", database: "bench", collection: "organizations", filter: { slug: "testorg" } };

/** One SQLite table with one row, read by its key: the smallest store call a request can make. */
export class BareStore extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
    this.sql.exec("INSERT OR REPLACE INTO docs (id, body) VALUES ('testorg', ?)", BODY);
  }

  read(query) {
    const row = this.sql.exec("SELECT body FROM docs WHERE id = ?", query.filter.slug).toArray()[0];
    return { document: row ? JSON.parse(row.body) : null };
  }

  async fetch(request) {
    return Response.json(this.read(await request.json()));
  }
}

const store = (env) => env.BARE_STORE.get(env.BARE_STORE.idFromName("bench"));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/pbkdf2") {
      const iterations = Math.min(Number(url.searchParams.get("iterations")) || MAX_ITERATIONS, MAX_ITERATIONS);
      if (url.searchParams.has("throttle")) await env.LOGIN_RATE_LIMITER.limit({ key: request.headers.get("cf-connecting-ip") ?? "unknown" });
      const bits = await pbkdf2(iterations);
      logLine(request, "/pbkdf2", 0);
      return Response.json({ iterations, bytes: bits.byteLength });
    }
    if (url.pathname === "/store") {
      const answer = await store(env).fetch("https://bare-store.internal/read", { method: "POST", body: JSON.stringify(QUERY) });
      const { document } = await answer.json();
      logLine(request, "/store", 1);
      return Response.json(document);
    }
    if (url.pathname === "/store-rpc") {
      const { document } = await store(env).read(QUERY);
      const requestId = logLine(request, "/store-rpc", 1);
      if (!url.searchParams.has("headed")) return Response.json(document);
      // One id for the log line and the header, as the service has: the header adds no second UUID.
      return Response.json(document, { headers: { ...SECURITY_HEADERS, "x-request-id": requestId, "x-data-round-trips": "1" } });
    }
    if (url.pathname === "/logged") logLine(request, "/logged", 0);
    return new Response(BODY, { headers: { "content-type": "application/json" } });
  },
};

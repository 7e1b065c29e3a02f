import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { callWith, storeClient } from "../helpers";

/**
 * Property-based hostile-client suite: whatever body, query and headers a client sends, the
 * Worker answers below 500, and an answer of 400 or more leaves the stored state as it was.
 * It runs on a database of its own so the snapshot sees only what these requests could touch.
 */
const database = `fuzz_${Date.now().toString(36)}`;
const overrides = { DATABASE: database };
const data = () => storeClient(database);

const send = (path: string, init: RequestInit) => callWith(overrides, path, init);

/**
 * Everything a request could change: organizations (admins inside) and the tenant collections.
 * Left out on purpose: the audit trail and the lockout's counters (`login_attempts`), which a
 * refused login must change.
 */
const snapshot = async () => {
  const client = data();
  const orgs = await client.collection("organizations").find({}, { sort: { _id: 1 } });
  const collections = (await client.listCollections()).map((c) => c.name).filter((n) => n.startsWith("org_"));
  const records = await Promise.all(collections.sort().map(async (name) => [name, await client.collection(name).find({}, { sort: { _id: 1 } })]));
  return JSON.stringify({ orgs, records });
};

// A fixed seed keeps CI reproducible; set FUZZ_SEED (and FUZZ_RUNS) in the test env to explore further.
const { FUZZ_SEED = "20261125", FUZZ_RUNS = "40" } = env as unknown as Record<string, string | undefined>;

const ORG = { organization_name: "Fuzz Target", email: "fuzz@example.com", password: "Fuzz-pass-1" };
let token = "";

beforeAll(async () => {
  expect((await send("/org/create", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ORG) })).status).toBe(200);
  const login = await send("/admin/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: ORG.email, password: ORG.password }),
  });
  token = ((await login.json()) as { access_token: string }).access_token;
  const record = await send("/org/records", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: '{"kept":true}',
  });
  expect(record.status).toBe(201);
});

const FIELDS = [
  "organization_name",
  "new_organization_name",
  "email",
  "password",
  "current_password",
  "new_password",
  "$where",
  "__proto__",
  "constructor",
  "_id",
];
const hostileValue = fc.oneof(
  fc.string(),
  fc.constantFrom(ORG.organization_name, ORG.email, ORG.password, "", " ", "Fuzz-Target", "FUZZ TARGET"),
  fc.constantFrom({ $ne: null }, { $gt: "" }, { $regex: ".*" }, { $where: "1" }, [ORG.email], null, true, 0, -1, 1e308),
  fc.anything(),
);
const hostileObject = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string()), hostileValue, { maxKeys: 6 });
// Bodies shaped like the real ones, so validation and the domain (not only the parser) are exercised.
const shapedObject = fc.record(Object.fromEntries(FIELDS.slice(0, 6).map((f) => [f, hostileValue])), { requiredKeys: [] });
const body = fc.oneof(
  shapedObject.map((o) => JSON.stringify(o)),
  hostileObject.map((o) => JSON.stringify(o)),
  fc.json(),
  fc.string(),
  fc.constantFrom("{", "[]", "null", '{"a":1,}', "\u0000", '{"organization_name": "x"'.repeat(3)),
);
const contentType = fc.oneof(
  fc.constant("application/json"),
  fc.constant("application/json; charset=utf-8"),
  fc.constantFrom("text/plain", "", "application/x-www-form-urlencoded", "application/ejson"),
);
const auth = fc.oneof(
  fc.constant(undefined),
  fc.constant("valid"),
  fc.constantFrom("Bearer ", "Bearer x.y.z", "Basic Zm9vOmJhcg==", "Bearer eyJhbGciOiJub25lIn0.eyJvcmdfaWQiOiJ4In0."),
  fc.string(),
);
const query = fc.dictionary(
  fc.oneof(fc.constant("organization_name"), fc.constantFrom("limit", "cursor"), fc.string({ maxLength: 8 })),
  fc.oneof(fc.string(), fc.constantFrom(ORG.organization_name, "Fuzz-Target", "")),
  {
    maxKeys: 3,
  },
);

const ENDPOINTS: [string, string][] = [
  ["POST", "/org/create"],
  ["GET", "/org/get"],
  ["PUT", "/org/update"],
  ["DELETE", "/org/delete"],
  ["POST", "/admin/login"],
  ["POST", "/admin/logout"],
  ["POST", "/admin/password"],
  ["POST", "/org/records"],
  ["GET", "/org/records"],
];

describe("no input produces a 5xx or, when refused, changes stored state", () => {
  it.each(ENDPOINTS)("%s %s", async (method, path) => {
    await fc.assert(
      fc.asyncProperty(body, contentType, auth, query, fc.option(fc.string(), { nil: undefined }), async (text, type, authorization, params, adminEmail) => {
        const before = await snapshot();
        const headers: Record<string, string> = {};
        if (type) headers["content-type"] = type;
        if (authorization) headers.authorization = authorization === "valid" ? `Bearer ${token}` : authorization;
        if (adminEmail !== undefined) headers["x-admin-email"] = adminEmail;
        const search = new URLSearchParams(params).toString();
        const res = await send(`${path}${search ? `?${search}` : ""}`, { method, headers, body: method === "GET" ? undefined : text });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await snapshot()).toBe(before);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      }),
      { numRuns: Number(FUZZ_RUNS), seed: Number(FUZZ_SEED) },
    );
  });
});

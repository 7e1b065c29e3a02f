import type { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { connectData } from "../../src/data/connect";
import { ERRORS } from "../../src/domain/kernel/errors";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import type { RecordDoc } from "../../src/domain/records/records";
import { call, createOrg, env, loginToken, putJson, roundTrips, uniqueName } from "../helpers";

/** The store itself, bypassing the Worker, to check what the endpoints really left behind. */
const store = () => connectData(env, parseSettings(env));
const tenantDocs = (collection: string) =>
  store()
    .collection<RecordDoc>(collection)
    .find({}, { sort: { _id: 1 } });
const orgDoc = async (collection: string) => {
  const org = await store().collection<OrganizationDoc>(ORGANIZATIONS).findOne({ collection_name: collection });
  if (!org) throw new Error(`no organization owns ${collection}`);
  return org;
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sendJson = (method: string, path: string, token: string, body: unknown) =>
  call(path, { method, headers: { "content-type": "application/json", ...bearer(token) }, body: typeof body === "string" ? body : JSON.stringify(body) });

const newTenant = async (name = uniqueName("Rec")) => {
  const org = await createOrg(name);
  return { ...org, collection: org.body.collection_name, token: await loginToken(org.email, org.password) };
};
type Tenant = Awaited<ReturnType<typeof newTenant>>;

type Stored = Record<string, unknown> & { id: string; created_at: string; updated_at: string };

const insert = async (tenant: Tenant, body: Record<string, unknown>): Promise<Stored> => {
  const res = await sendJson("POST", "/org/records", tenant.token, body);
  expect(res.status).toBe(201);
  return (await res.json()) as Stored;
};

const page = async (tenant: Tenant, query = "") => {
  const res = await call(`/org/records${query}`, { headers: bearer(tenant.token) });
  expect(res.status).toBe(200);
  expect(roundTrips(res)).toBe(1);
  return (await res.json()) as { records: Stored[]; next_cursor: string | null };
};

/** Follows next_cursor to the end, running `between` after each page, and returns every id seen in order. */
const allIds = async (tenant: Tenant, limit: number, between: (pageNo: number) => Promise<void> = async () => {}) => {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pageNo = 0; pageNo < 100; pageNo++) {
    const body = await page(tenant, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(body.records.length).toBeLessThanOrEqual(limit);
    ids.push(...body.records.map((r) => r.id));
    cursor = body.next_cursor;
    if (!cursor) return ids;
    await between(pageNo);
  }
  throw new Error("pagination did not end");
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const hex = (id: ObjectId) => id.toHexString();
const notFound = { detail: ERRORS.RECORD_NOT_FOUND.message };

describe("tenant records: create, read, replace, delete", () => {
  it("stores a record in the organization's own collection and answers 201 with it", async () => {
    const tenant = await newTenant();
    const fields = { name: "Widget", price: 9.5, tags: ["blue", "small"], nested: { id: "inner ids are the caller's", deep: [{ n: null, ok: true }] } };
    const res = await sendJson("POST", "/org/records", tenant.token, fields);
    expect(res.status).toBe(201);
    // One fenced insert: the organization checked and the record stored in one store call.
    expect(roundTrips(res)).toBe(1);
    const record = (await res.json()) as Stored;
    expect(record.id).toMatch(/^[0-9a-f]{24}$/);
    expect(record.created_at).toMatch(ISO);
    expect(record).toEqual({ id: record.id, ...fields, created_at: record.created_at, updated_at: record.created_at });
    expect(Object.keys(record)).toEqual(["id", "name", "price", "tags", "nested", "created_at", "updated_at"]);
    expect(res.headers.get("location")).toBe(`/org/records/${record.id}`);

    const org = await orgDoc(tenant.collection);
    const docs = await tenantDocs(tenant.collection);
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    expect(doc && hex(doc._id)).toBe(record.id);
    expect(doc && hex(doc.org_id)).toBe(hex(org._id));
    expect(doc?.data).toEqual(fields);
    expect(doc?.created_at).toBeInstanceOf(Date);
    expect(doc?.created_at.toISOString()).toBe(record.created_at);
    expect(doc?.updated_at.toISOString()).toBe(record.created_at);
  });

  it("reads a record back exactly as it was stored", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, { a: 1, b: "two", c: [3], empty: {} });
    const res = await call(`/org/records/${record.id}`, { headers: bearer(tenant.token) });
    expect(res.status).toBe(200);
    expect(roundTrips(res)).toBe(1);
    expect(await res.json()).toEqual(record);
    const upper = await call(`/org/records/${record.id.toUpperCase()}`, { headers: bearer(tenant.token) });
    expect(await upper.json()).toEqual(record);
  });

  it("stores an empty object as a record with only the server's fields", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, {});
    expect(Object.keys(record)).toEqual(["id", "created_at", "updated_at"]);
  });

  it("replaces the fields on PUT and keeps id and created_at", async () => {
    const tenant = await newTenant();
    const before = await insert(tenant, { keep: "no", count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await sendJson("PUT", `/org/records/${before.id}`, tenant.token, { count: 2, added: ["x"] });
    expect(res.status).toBe(200);
    expect(roundTrips(res)).toBe(2);
    const after = (await res.json()) as Stored;
    expect(after).toEqual({ id: before.id, count: 2, added: ["x"], created_at: before.created_at, updated_at: after.updated_at });
    expect(after.updated_at).toMatch(ISO);
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.created_at));

    const [doc, ...others] = await tenantDocs(tenant.collection);
    expect(others).toEqual([]);
    expect(doc?.data).toEqual({ count: 2, added: ["x"] });
    expect(doc?.created_at.toISOString()).toBe(before.created_at);
    expect(doc?.updated_at.toISOString()).toBe(after.updated_at);
    expect(await (await call(`/org/records/${before.id}`, { headers: bearer(tenant.token) })).json()).toEqual(after);
  });

  it("deletes with 204, after which the record is gone for every method", async () => {
    const tenant = await newTenant();
    const kept = await insert(tenant, { n: 1 });
    const gone = await insert(tenant, { n: 2 });
    const res = await call(`/org/records/${gone.id}`, { method: "DELETE", headers: bearer(tenant.token) });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(roundTrips(res)).toBe(2);
    expect((await tenantDocs(tenant.collection)).map((d) => hex(d._id))).toEqual([kept.id]);

    for (const [method, body] of [
      ["GET", undefined],
      ["PUT", { n: 3 }],
      ["DELETE", undefined],
    ] as const) {
      const again = body
        ? await sendJson(method, `/org/records/${gone.id}`, tenant.token, body)
        : await call(`/org/records/${gone.id}`, { method, headers: bearer(tenant.token) });
      expect(again.status, method).toBe(404);
      expect(await again.json()).toEqual(notFound);
      // A read is one fenced find; a replace or delete a write lease, then the write.
      expect(roundTrips(again), method).toBe(method === "GET" ? 1 : 2);
    }
    expect((await tenantDocs(tenant.collection)).map((d) => hex(d._id))).toEqual([kept.id]);
  });
});

describe("listing records", () => {
  it("answers an empty first page for an organization without records", async () => {
    const tenant = await newTenant();
    expect(await page(tenant)).toEqual({ records: [], next_cursor: null });
  });

  it("pages in a stable order, every record exactly once, also with inserts in between", async () => {
    const tenant = await newTenant();
    const first = [];
    for (let i = 0; i < 7; i++) first.push(await insert(tenant, { i }));
    const added: Stored[] = [];
    const ids = await allIds(tenant, 3, async (pageNo) => {
      added.push(await insert(tenant, { i: 100 + pageNo }));
    });
    // 7 records, 3 per page, and one more inserted after each page that had a successor.
    expect(ids).toEqual([...first, ...added].map((r) => r.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(added.length).toBeGreaterThanOrEqual(2);
    // Without inserts in between, the pages are exactly the stored records in id order.
    const stored = (await tenantDocs(tenant.collection)).map((d) => hex(d._id));
    expect(await allIds(tenant, 4)).toEqual(stored);
  });

  it("returns the records themselves and null next_cursor when the last page is exactly full", async () => {
    const tenant = await newTenant();
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await insert(tenant, { i }));
    const one = await page(tenant, "?limit=2");
    expect(one.records).toEqual(records.slice(0, 2));
    expect(one.next_cursor).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await page(tenant, `?limit=2&cursor=${one.next_cursor}`)).toEqual({ records: records.slice(2), next_cursor: null });
  });

  it("defaults to 50 records a page and treats empty parameters as left out", async () => {
    const tenant = await newTenant();
    for (let i = 0; i < 51; i++) await insert(tenant, { i });
    const first = await page(tenant);
    expect(first.records.map((r) => r.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(first.next_cursor).not.toBeNull();
    expect(await page(tenant, "?limit=&cursor=")).toEqual(first);
    const rest = await page(tenant, `?cursor=${first.next_cursor}`);
    expect(rest.records.map((r) => r.i)).toEqual([50]);
    expect(rest.next_cursor).toBeNull();
    expect((await page(tenant, "?limit=200")).records).toHaveLength(51);
  });

  it("refuses a limit outside 1..200 and a cursor it never issued with 422, before asking the store", async () => {
    const tenant = await newTenant();
    const cases: [string, string, string][] = [
      ["?limit=0", "limit", "Input should be greater than or equal to 1"],
      ["?limit=201", "limit", "Input should be less than or equal to 200"],
      ["?limit=abc", "limit", "Input should be a valid integer, unable to parse string as an integer"],
      ["?limit=-1", "limit", "Input should be a valid integer, unable to parse string as an integer"],
      ["?limit=1.5", "limit", "Input should be a valid integer, unable to parse string as an integer"],
      ["?limit=99999999999999999999", "limit", "Input should be a valid integer, unable to parse string as an integer"],
      ["?cursor=abc", "cursor", "Invalid cursor: pass the next_cursor of a previous page unchanged"],
      ["?cursor=AAAAAAAAAAAAAAAA%3D", "cursor", "Invalid cursor: pass the next_cursor of a previous page unchanged"],
      ["?cursor=%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B", "cursor", "Invalid cursor: pass the next_cursor of a previous page unchanged"],
    ];
    for (const [query, field, msg] of cases) {
      const res = await call(`/org/records${query}`, { headers: bearer(tenant.token) });
      expect(res.status, query).toBe(422);
      expect(await res.json()).toEqual({ detail: [{ loc: ["query", field], msg, type: "value_error" }] });
      expect(roundTrips(res)).toBe(0);
    }
    const twice = await call("/org/records?limit=1&limit=2", { headers: bearer(tenant.token) });
    expect(twice.status).toBe(422);
    expect(await twice.json()).toEqual({ detail: [{ loc: ["query", "limit"], msg: "Input should be a valid string", type: "string_type" }] });
  });
});

describe("isolation between organizations", () => {
  it("never shows, changes or deletes another organization's record: 404 as for one that does not exist", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const record = await insert(owner, { secret: "owner's" });
    const mine = await insert(other, { secret: "other's" });

    const missing = "0123456789abcdef01234567";
    for (const id of [record.id, missing]) {
      const read = await call(`/org/records/${id}`, { headers: bearer(other.token) });
      const replace = await sendJson("PUT", `/org/records/${id}`, other.token, { secret: "overwritten" });
      const remove = await call(`/org/records/${id}`, { method: "DELETE", headers: bearer(other.token) });
      for (const res of [read, replace, remove]) {
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual(notFound);
      }
    }
    expect((await page(other)).records).toEqual([mine]);
    expect((await page(owner)).records).toEqual([record]);
    const [doc] = await tenantDocs(owner.collection);
    expect(doc?.data).toEqual({ secret: "owner's" });
  });

  it("refuses a record whose org_id is not the caller's even inside the caller's collection", async () => {
    const tenant = await newTenant();
    const stranger = await newTenant();
    // As if a collection had changed hands: a document of another organization in this one's collection.
    const foreign = await store()
      .collection(tenant.collection)
      .insertOne({ org_id: (await orgDoc(stranger.collection))._id, created_at: new Date(), updated_at: new Date(), data: { x: 1 } });
    const id = hex(foreign as ObjectId);
    expect((await call(`/org/records/${id}`, { headers: bearer(tenant.token) })).status).toBe(404);
    expect((await sendJson("PUT", `/org/records/${id}`, tenant.token, { x: 2 })).status).toBe(404);
    expect((await call(`/org/records/${id}`, { method: "DELETE", headers: bearer(tenant.token) })).status).toBe(404);
    expect(await page(tenant)).toEqual({ records: [], next_cursor: null });
    expect((await tenantDocs(tenant.collection)).map((d) => d.data)).toEqual([{ x: 1 }]);
  });
});

describe("records across the organization's lifecycle", () => {
  it("move with a rename: the same token reaches them in the new collection", async () => {
    const tenant = await newTenant();
    const records = [await insert(tenant, { n: 1 }), await insert(tenant, { n: 2 })];
    const newName = uniqueName("Renamed");
    const renamed = await putJson("/org/update", { organization_name: tenant.name, new_organization_name: newName }, bearer(tenant.token));
    expect(renamed.status).toBe(200);
    const { collection_name } = (await renamed.json()) as { collection_name: string };
    expect(collection_name).not.toBe(tenant.collection);

    expect(await page(tenant)).toEqual({ records, next_cursor: null });
    expect((await tenantDocs(collection_name)).map((d) => hex(d._id))).toEqual(records.map((r) => r.id));
    expect(await store().listCollections({ name: tenant.collection })).toEqual([]);
    const added = await insert(tenant, { n: 3 });
    expect((await tenantDocs(collection_name)).map((d) => hex(d._id))).toEqual([...records, added].map((r) => r.id));
  });

  it("vanish with a delete: the old token is refused, and a new organization of that name starts empty", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, { n: 1 });
    const deleted = await call(`/org/delete?organization_name=${encodeURIComponent(tenant.name)}`, { method: "DELETE", headers: bearer(tenant.token) });
    expect(deleted.status).toBe(200);
    expect(await tenantDocs(tenant.collection)).toEqual([]);

    const reborn = await newTenant(tenant.name);
    expect(reborn.collection).toBe(tenant.collection);
    for (const res of [
      await call("/org/records", { headers: bearer(tenant.token) }),
      await call(`/org/records/${record.id}`, { headers: bearer(tenant.token) }),
      await sendJson("POST", "/org/records", tenant.token, { n: 2 }),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ detail: ERRORS.INVALID_TOKEN.message });
    }
    expect(await page(reborn)).toEqual({ records: [], next_cursor: null });
    expect((await call(`/org/records/${record.id}`, { headers: bearer(reborn.token) })).status).toBe(404);
    expect(await tenantDocs(reborn.collection)).toEqual([]);
  });

  it("wait while a rename is moving the collection (409) and refuse revoked tokens (401)", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, { n: 1 });
    const organizations = store().collection<OrganizationDoc>(ORGANIZATIONS);
    const { _id, members } = await orgDoc(tenant.collection);
    const [ownerKey] = Object.keys(members);

    await organizations.updateOne({ _id }, { $set: { status: "renaming" } });
    const busy = await call(`/org/records/${record.id}`, { headers: bearer(tenant.token) });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({ detail: ERRORS.ORGANIZATION_BUSY.message });
    // The fenced find that matched no organization, then the read that says why (on this path only).
    expect(roundTrips(busy)).toBe(2);

    await organizations.updateOne({ _id }, { $set: { status: "active" }, $inc: { [`members.${ownerKey}.token_version`]: 1 } });
    const revoked = await sendJson("POST", "/org/records", tenant.token, { n: 2 });
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toEqual({ detail: ERRORS.INVALID_TOKEN.message });
    expect((await tenantDocs(tenant.collection)).map((d) => d.data)).toEqual([{ n: 1 }]);
  });
});

describe("refused requests", () => {
  const endpoints = (id: string): [string, string][] => [
    ["POST", "/org/records"],
    ["GET", "/org/records"],
    ["GET", `/org/records/${id}`],
    ["PUT", `/org/records/${id}`],
    ["DELETE", `/org/records/${id}`],
  ];

  it("answers 401 without a token, or with one that does not verify", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, { n: 1 });
    for (const [method, path] of endpoints(record.id)) {
      const body = method === "POST" || method === "PUT" ? JSON.stringify({ n: 2 }) : undefined;
      const anonymous = await call(path, { method, headers: { "content-type": "application/json" }, body });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
      expect(await anonymous.json()).toEqual({ detail: ERRORS.NOT_AUTHENTICATED.message });
      expect(roundTrips(anonymous)).toBe(0);
      const forged = await call(path, { method, headers: { "content-type": "application/json", ...bearer(`${tenant.token}x`) }, body });
      expect(forged.status).toBe(401);
      expect(await forged.json()).toEqual({ detail: ERRORS.INVALID_TOKEN.message });
    }
    expect((await tenantDocs(tenant.collection)).map((d) => d.data)).toEqual([{ n: 1 }]);
  });

  it("answers 404, never 500, for ids that are not ObjectIds", async () => {
    const tenant = await newTenant();
    for (const id of ["xyz", "123", "0123456789abcdef012345678", "0123456789abcdef0123456g", "%zz", "%00", "null", "..%2F..%2Forganizations"]) {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const res =
          method === "PUT"
            ? await sendJson(method, `/org/records/${id}`, tenant.token, {})
            : await call(`/org/records/${id}`, { method, headers: bearer(tenant.token) });
        expect(res.status, `${method} ${id}`).toBe(404);
        expect(await res.json()).toEqual(notFound);
      }
    }
  });

  it("answers 405 for other methods on the record paths", async () => {
    const tenant = await newTenant();
    for (const path of ["/org/records", "/org/records/0123456789abcdef01234567"]) {
      const res = await call(path, { method: "PATCH", headers: bearer(tenant.token) });
      expect(res.status).toBe(405);
      expect(await res.json()).toEqual({ detail: ERRORS.METHOD_NOT_ALLOWED.message });
    }
  });

  it("refuses bodies that are not JSON objects with 422, 415 and 413, on POST and PUT alike", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, { n: 1 });
    const notObject = { detail: [{ loc: ["body"], msg: "Input should be a valid dictionary or object", type: "model_attributes_type" }] };
    for (const [method, path] of [
      ["POST", "/org/records"],
      ["PUT", `/org/records/${record.id}`],
    ] as const) {
      for (const body of ["[1, 2]", '"text"', "42", "null", "true"]) {
        const res = await sendJson(method, path, tenant.token, body);
        expect(res.status, `${method} ${body}`).toBe(422);
        expect(await res.json()).toEqual(notObject);
        expect(roundTrips(res)).toBe(0);
      }
      const malformed = await sendJson(method, path, tenant.token, "{bad");
      expect(malformed.status).toBe(422);
      expect(await malformed.json()).toEqual({ detail: [{ loc: ["body", 0], msg: "JSON decode error", type: "json_invalid" }] });
      const text = await call(path, { method, headers: { "content-type": "text/plain", ...bearer(tenant.token) }, body: "{}" });
      expect(text.status).toBe(415);
      expect(await text.json()).toEqual({ detail: ERRORS.UNSUPPORTED_MEDIA_TYPE.message });
      const large = await sendJson(method, path, tenant.token, { blob: "x".repeat(64 * 1024) });
      expect(large.status).toBe(413);
      expect(await large.json()).toEqual({ detail: ERRORS.PAYLOAD_TOO_LARGE.message });
    }
    expect((await tenantDocs(tenant.collection)).map((d) => d.data)).toEqual([{ n: 1 }]);
  });

  it("accepts records up to 64 KiB, more than the 16 KiB of the other endpoints", async () => {
    const tenant = await newTenant();
    const blob = "y".repeat(64 * 1024 - 20);
    const record = await insert(tenant, { blob });
    expect(record.blob).toBe(blob);
  });

  it("refuses field names MongoDB reserves or reads as operators, and the server's own, with a 422 that points at them", async () => {
    const tenant = await newTenant();
    const record = await insert(tenant, { n: 1 });
    const cases: [unknown, (string | number)[], string][] = [
      [{ _id: "x" }, ["_id"], "'_id' is set by the server"],
      [{ id: "x" }, ["id"], "'id' is set by the server"],
      [{ created_at: "x" }, ["created_at"], "'created_at' is set by the server"],
      [{ updated_at: "x" }, ["updated_at"], "'updated_at' is set by the server"],
      [{ $set: { a: 1 } }, ["$set"], "Field names must not start with '$'"],
      [{ a: { $gt: 1 } }, ["a", "$gt"], "Field names must not start with '$'"],
      [{ when: { $date: "2026-01-01T00:00:00Z" } }, ["when", "$date"], "Field names must not start with '$'"],
      [{ "a.b": 1 }, ["a.b"], "Field names must not contain '.'"],
      [{ list: [1, { "x.y": 2 }] }, ["list", 1, "x.y"], "Field names must not contain '.'"],
      [{ "": 1 }, [""], "Field names must not be empty"],
      [{ "a\u0000b": 1 }, ["a\u0000b"], "Field names must not contain the NUL character"],
    ];
    for (const [body, loc, msg] of cases) {
      for (const [method, path] of [
        ["POST", "/org/records"],
        ["PUT", `/org/records/${record.id}`],
      ]) {
        const res = await sendJson(method as string, path as string, tenant.token, body);
        expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(422);
        expect(await res.json()).toEqual({ detail: [{ loc: ["body", ...loc], msg, type: "value_error" }] });
      }
    }
    // JSON.stringify cannot produce an own "__proto__" key from an object literal; JSON text can.
    for (const text of ['{"__proto__": {"admin": true}}', '{"a": {"__proto__": 1}}']) {
      const res = await sendJson("POST", "/org/records", tenant.token, text);
      expect(res.status, text).toBe(422);
      expect(JSON.stringify(await res.json())).toContain("Field name '__proto__' is not allowed");
    }
    const many = await sendJson("POST", "/org/records", tenant.token, { $a: 1, $b: 2, id: 3 });
    expect(((await many.json()) as { detail: unknown[] }).detail).toEqual([
      { loc: ["body", "id"], msg: "'id' is set by the server", type: "value_error" },
      { loc: ["body", "$a"], msg: "Field names must not start with '$'", type: "value_error" },
      { loc: ["body", "$b"], msg: "Field names must not start with '$'", type: "value_error" },
    ]);
    expect((await tenantDocs(tenant.collection)).map((d) => d.data)).toEqual([{ n: 1 }]);
  });

  it("allows 32 levels of nesting and refuses deeper bodies with 422, however deep", async () => {
    const tenant = await newTenant();
    const nested = (levels: number): unknown => (levels === 1 ? { leaf: 1 } : { a: nested(levels - 1) });
    const deepest = await insert(tenant, nested(32) as Record<string, unknown>);
    expect(deepest).toEqual({ id: deepest.id, ...(nested(32) as object), created_at: deepest.created_at, updated_at: deepest.updated_at });

    const tooDeep = await sendJson("POST", "/org/records", tenant.token, nested(33));
    expect(tooDeep.status).toBe(422);
    expect(await tooDeep.json()).toEqual({
      detail: [{ loc: ["body", ...Array(32).fill("a")], msg: "Objects and arrays may be nested at most 32 levels deep", type: "value_error" }],
    });
    const arrays = await sendJson("POST", "/org/records", tenant.token, `{"a": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`);
    expect(arrays.status).toBe(422);
    expect(JSON.stringify(await arrays.json())).toContain("nested at most 32 levels");
  });
});

describe("the OpenAPI document", () => {
  it("describes the record endpoints with examples", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    expect(Object.keys(doc.paths["/org/records"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/org/records/{id}"] ?? {}).sort()).toEqual(["delete", "get", "put"]);
    const post = doc.paths["/org/records"]?.post as {
      security: unknown;
      requestBody: { content: { "application/json": { schema: { example: unknown } } } };
      responses: Record<string, { content?: { "application/json": { schema: { example?: unknown } } } }>;
    };
    expect(post.security).toEqual([{ bearerAuth: [] }]);
    const example = post.requestBody.content["application/json"].schema.example as Record<string, unknown>;
    expect(post.responses["201"]?.content?.["application/json"].schema.example).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      ...example,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    // 429: an organization API key past its allowance (records:write is a key scope).
    expect(Object.keys(post.responses).sort()).toEqual(["201", "401", "403", "409", "413", "415", "422", "429", "503"]);
    const list = doc.paths["/org/records"]?.get as { responses: Record<string, { content: { "application/json": { schema: { example: unknown } } } }> };
    expect(list.responses["200"]?.content["application/json"].schema.example).toMatchObject({ next_cursor: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) });

    // The documented example is a body the Worker stores as it is.
    const tenant = await newTenant();
    const stored = await insert(tenant, example);
    expect(stored).toEqual({ id: stored.id, ...example, created_at: stored.created_at, updated_at: stored.updated_at });
  });
});

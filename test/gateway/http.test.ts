import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { action, type RunningGateway, runGateway, startGateway, TEST_KEY } from "./spawn";

const mongoUrl = process.env.MONGO_URL;
const database = `gw_http_${Date.now().toString(36)}`;

describe.skipIf(!mongoUrl)("gateway over HTTP (needs MONGO_URL; npm run test:mongo sets it)", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startGateway({
      MONGO_URL: mongoUrl ?? "",
      GATEWAY_API_KEY: TEST_KEY,
      GATEWAY_MAX_BODY_BYTES: "4096",
      GATEWAY_DATABASES: `${database}, ${database}_b`,
      GATEWAY_COLLECTIONS: "org_[a-z0-9_]+|organizations",
    });
  });
  afterAll(() => gateway?.stop());

  it("answers GET /health with 200 while the database answers, without a key", async () => {
    const res = await fetch(`${gateway.url}/health`);
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: "ok" } });
    expect((await fetch(`${gateway.url}/health`, { method: "POST" })).status).toBe(405);
  });

  it("answers 401 to a missing or wrong key and serves the right one", async () => {
    const body = { database, collection: "organizations", filter: {} };
    const unauthorized = { error: "invalid or missing API key", error_code: "InvalidSession" };
    const missing = await action(gateway, "find", body, {});
    expect({ status: missing.status, body: await missing.json() }).toEqual({ status: 401, body: unauthorized });
    const wrong = await action(gateway, "find", body, { apiKey: TEST_KEY.replace(/.$/, "X") });
    expect({ status: wrong.status, body: await wrong.json() }).toEqual({ status: 401, body: unauthorized });
    const right = await action(gateway, "find", body);
    expect({ status: right.status, body: await right.json() }).toEqual({ status: 200, body: { documents: [] } });
  });

  it("answers an unknown action with 404", async () => {
    const res = await action(gateway, "eval", { database, collection: "organizations" });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 404, body: { error: "unknown action", error_code: "ActionNotFound" } });
  });

  it("answers 413 to a body over GATEWAY_MAX_BODY_BYTES, declared or streamed", async () => {
    const document = { filler: "x".repeat(5000) };
    const declared = await action(gateway, "insertOne", { database, collection: "organizations", document });
    expect({ status: declared.status, body: await declared.json() }).toEqual({
      status: 413,
      body: { error: "request body exceeds 4096 bytes", error_code: "PayloadTooLarge" },
    });
    // Chunked, with no Content-Length: the limit must hold while reading, not only on the header.
    const bytes = new TextEncoder().encode(JSON.stringify({ dataSource: "x", database, collection: "organizations", document }));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
        controller.close();
      },
    });
    const streamed = await fetch(`${gateway.url}/action/insertOne`, {
      method: "POST",
      headers: { "content-type": "application/json", apiKey: TEST_KEY },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await action(gateway, "countDocuments", { database, collection: "organizations", filter: {} }).then((r) => r.json())).toEqual({ count: 0 });
  });

  it("keeps callers to GATEWAY_DATABASES and to collections matching the whole of GATEWAY_COLLECTIONS", async () => {
    const status = async (body: Record<string, unknown>, name = "findOne") => (await action(gateway, name, body)).status;
    expect(await status({ database, collection: "org_acme" })).toBe(200);
    expect(await status({ database: `${database}_b`, collection: "organizations" })).toBe(200);
    expect(await status({ database: "admin", collection: "organizations" })).toBe(403);
    expect(await status({ database, collection: "secrets" })).toBe(403);
    expect(await status({ database, collection: "x_org_acme" })).toBe(403);
    expect(await status({ database }, "listCollections")).toBe(200);
    expect(await status({ database: "other" }, "listCollections")).toBe(403);
    expect(await status({ database, collection: "org_acme", document: { a: 1 } }, "insertOne")).toBe(200);
    expect(await status({ database, collection: "org_acme", to: "stolen" }, "renameCollection")).toBe(403);
    expect(await status({ database, collection: "org_acme", to: "org_renamed" }, "renameCollection")).toBe(200);
    // Collections the key may not reach are not even named to it.
    const direct = new MongoClient(mongoUrl ?? "");
    try {
      await direct.db(database).createCollection("secrets");
    } finally {
      await direct.close();
    }
    const listed = (await (await action(gateway, "listCollections", { database })).json()) as { collections: { name: string }[] };
    expect(listed.collections.map((c) => c.name)).toEqual(["org_renamed"]);
  });

  it("creates a TTL index without expiry where the server has none, and says so once", async () => {
    const body = { database, collection: "org_ttl", indexes: [{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 60 }] };
    expect((await action(gateway, "createIndexes", body)).status).toBe(200);
    expect((await action(gateway, "createIndexes", { ...body, collection: "org_ttl2" })).status).toBe(200);
    expect(gateway.output().match(/no TTL indexes/g)).toHaveLength(1);
  });
  it("drops a unique index on the server with dropIndexes, answers false once it is gone, and refuses _id_ with 400", async () => {
    const call = async (name: string, body: Record<string, unknown>) => {
      const res = await action(gateway, name, { database, collection: "org_drop", ...body });
      return { status: res.status, body: await res.json() };
    };
    expect((await call("createIndexes", { indexes: [{ key: { slug: 1 }, name: "slug_unique", unique: true }] })).status).toBe(200);
    expect((await call("insertOne", { document: { slug: "a" } })).status).toBe(200);
    expect((await call("insertOne", { document: { slug: "a" } })).status).toBe(409);
    expect(await call("dropIndexes", { name: "slug_unique" })).toEqual({ status: 200, body: { dropped: true } });
    const direct = new MongoClient(mongoUrl ?? "");
    try {
      expect((await direct.db(database).collection("org_drop").listIndexes().toArray()).map((i) => i.name)).toEqual(["_id_"]);
    } finally {
      await direct.close();
    }
    expect((await call("insertOne", { document: { slug: "a" } })).status).toBe(200);
    expect(await call("dropIndexes", { name: "slug_unique" })).toEqual({ status: 200, body: { dropped: false } });
    expect(await call("dropIndexes", { name: "slug_unique", collection: "org_never" })).toEqual({ status: 200, body: { dropped: false } });
    expect(await call("dropIndexes", { name: "_id_" })).toEqual({
      status: 400,
      body: { error: "name: the _id_ index cannot be dropped", error_code: "InvalidParameter" },
    });
    expect((await call("dropIndexes", { name: "slug_unique", collection: "secrets" })).status).toBe(403);
    expect(await call("countDocuments", { filter: { slug: "a" } })).toEqual({ status: 200, body: { count: 2 } });
  });
});

describe("gateway settings", () => {
  it("accepts each of several comma-separated keys, so a key can be rotated", async () => {
    const next = "gateway-next-key-0123456789abcdef";
    const gateway = await startGateway({ MONGO_URL: "mongodb://127.0.0.1:1", GATEWAY_API_KEY: `${TEST_KEY}, ${next}` });
    try {
      // Past the key check an unknown action is a 404; a wrong key stops at 401.
      for (const key of [TEST_KEY, next]) expect((await action(gateway, "eval", { database: "d", collection: "c" }, { apiKey: key })).status).toBe(404);
      expect((await action(gateway, "eval", { database: "d", collection: "c" }, { apiKey: "gateway-other-key-0123456789abcdef" })).status).toBe(401);
    } finally {
      await gateway.stop();
    }
  });

  it("refuses to start without GATEWAY_API_KEY, or with a short one, unless GATEWAY_INSECURE_NO_KEY=1", async () => {
    const none = await runGateway({ MONGO_URL: "mongodb://127.0.0.1:1" });
    expect(none.code).toBe(2);
    expect(none.output).toContain("GATEWAY_API_KEY is required");
    const short = await runGateway({ MONGO_URL: "mongodb://127.0.0.1:1", GATEWAY_API_KEY: "short" });
    expect(short.code).toBe(2);
    expect(short.output).toContain("must be at least 16 characters");
    const oneShort = await runGateway({ MONGO_URL: "mongodb://127.0.0.1:1", GATEWAY_API_KEY: `${TEST_KEY},short` });
    expect(oneShort.code).toBe(2);
    const open = await startGateway({ MONGO_URL: "mongodb://127.0.0.1:1", GATEWAY_INSECURE_NO_KEY: "1" });
    try {
      // No key asked: the request reaches the engine (whose database is unreachable here).
      const res = await action(open, "eval", { database: "d", collection: "c" }, {});
      expect(res.status).toBe(404);
      expect(open.output()).toContain('"level":"warn","msg":"GATEWAY_INSECURE_NO_KEY=1: anyone who reaches this port');
    } finally {
      await open.stop();
    }
  });

  it("refuses a GATEWAY_COLLECTIONS that is not a regular expression", async () => {
    const bad = await runGateway({ GATEWAY_API_KEY: TEST_KEY, GATEWAY_COLLECTIONS: "org_(" });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain("GATEWAY_COLLECTIONS");
  });
});

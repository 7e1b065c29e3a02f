import { env } from "cloudflare:workers";
import { EJSON } from "bson";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { DataClient } from "../../src/data/client";
import { connectData } from "../../src/data/connect";
import { DataError, DataUnavailableError, DuplicateKeyError } from "../../src/data/errors";
import type { Env } from "../../src/env";

/**
 * The Worker reaches its Durable Object over RPC (`DataStore.action`), everyone else over HTTP:
 * both must give the same answers, refuse the same things, and count the same round trips.
 */
const database = `rpc_${Date.now().toString(36)}`;
const stub = () => env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
const overHttp = new DataClient({ fetch: (r) => stub().fetch(r), baseUrl: "https://data-store.internal", dataSource: "t", database, retries: 0 });
const overRpc = new DataClient({
  fetch: () => Promise.reject(new Error("the RPC client must not fetch")),
  baseUrl: "https://data-store.internal",
  rpc: (action, body) => stub().action(action, body),
  dataSource: "t",
  database,
  retries: 0,
});
const ejson = (value: unknown) => EJSON.stringify(value as Parameters<typeof EJSON.stringify>[0], { relaxed: false });

describe("the Durable Object over RPC", () => {
  it("answers as over HTTP, BSON types included", async () => {
    const doc = { _id: "typed", n: EJSON.parse('{"$numberLong":"9007199254740993"}', { relaxed: false }), at: new Date(0), tags: ["a"] };
    await overRpc.collection("same").insertOne(doc);
    const viaRpc = await overRpc.collection("same").findOne({ _id: "typed" });
    const viaHttp = await overHttp.collection("same").findOne({ _id: "typed" });
    expect(ejson(viaRpc)).toBe(ejson(viaHttp));
    // On the wire the answer is canonical EJSON: an Int64 beyond 2^53 keeps every digit.
    const raw = (await stub().action("findOne", ejson({ dataSource: "t", database, collection: "same", filter: { _id: "typed" } }))) as {
      status: number;
      body: string;
    };
    expect(raw.status).toBe(200);
    expect(raw.body).toContain('"$numberLong":"9007199254740993"');
    await expect(overRpc.collection("same").insertOne(doc)).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(overRpc.roundTrips).toBe(3);
  });

  it("refuses what HTTP refuses, with the same status and code", async () => {
    const body = (extra: Record<string, unknown>) => ejson({ dataSource: "t", database, collection: "refused", ...extra });
    expect(await stub().action("nope", body({}))).toMatchObject({ status: 404, body: expect.stringContaining('"ActionNotFound"') });
    expect(await stub().action("findOne", "{not json")).toMatchObject({ status: 400, body: expect.stringContaining('"InvalidParameter"') });
    expect(await stub().action("findOne", body({ filter: { $where: "1" } }))).toMatchObject({
      status: 400,
      body: expect.stringContaining('"ForbiddenOperator"'),
    });
    const late = await stub().action("insertOne", body({ document: { _id: "late" }, deadline: Date.now() - 1 }));
    expect(late).toMatchObject({ status: 503, body: expect.stringContaining('"DeadlineExceeded"') });
    expect(await overRpc.collection("refused").findOne({ _id: "late" })).toBeNull();
    const huge = await stub().action("insertOne", body({ document: { blob: "x".repeat(17 * 1024 * 1024 + 1) } }));
    expect(huge).toMatchObject({ status: 413, body: expect.stringContaining('"PayloadTooLarge"') });
    await expect(overRpc.collection("refused").find({ $where: "1" })).rejects.toBeInstanceOf(DataError);
  });

  it("a call that never answers times out as unavailable, and only safe calls are retried", async () => {
    let attempts = 0;
    const hang = () => {
      attempts++;
      return new Promise<never>(() => {});
    };
    const client = new DataClient({
      fetch: () => Promise.reject(new Error("unused")),
      baseUrl: "x",
      rpc: hang,
      dataSource: "s",
      database: "d",
      timeoutMs: 50,
      retries: 2,
      sleep: async () => {},
    });
    await expect(client.collection("c").findOne({})).rejects.toBeInstanceOf(DataUnavailableError);
    expect(attempts).toBe(3);
    attempts = 0;
    await expect(client.collection("c").insertOne({ a: 1 })).rejects.toBeInstanceOf(DataUnavailableError);
    expect(attempts).toBe(1);
  });

  it("is how the Worker's own client reaches the object; a fetch-only stand-in is called over HTTP", async () => {
    const calls: string[] = [];
    const fetched: string[] = [];
    const real = env.DATA_STORE;
    const namespace = (withRpc: boolean) => ({
      idFromName: (name: string) => real.idFromName(name),
      get: (id: DurableObjectId) => {
        const target = real.get(id);
        const fetch = (request: Request) => {
          fetched.push(new URL(request.url).pathname);
          return target.fetch(request);
        };
        if (!withRpc) return { fetch };
        return {
          fetch,
          action: (name: string, body: string | Record<string, unknown>) => {
            calls.push(name);
            return target.action(name, body);
          },
        };
      },
    });
    const scoped = (withRpc: boolean) => ({ ...env, DATABASE: database, DATA_API_URL: "", DATA_STORE: namespace(withRpc) }) as unknown as Env;
    const settings = parseSettings({ ...env, DATABASE: database, DATA_API_URL: "" });
    await connectData(scoped(true), settings).collection("worker").insertOne({ _id: 1 });
    expect(calls).toEqual(["insertOne"]);
    expect(fetched).toEqual([]);
    expect(await connectData(scoped(false), settings).collection("worker").findOne({ _id: 1 })).toEqual({ _id: 1 });
    expect(fetched).toEqual(["/action/findOne"]);
    expect(calls).toEqual(["insertOne"]);
  });
});

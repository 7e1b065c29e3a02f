import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES } from "../../../src/dataapi/handler";
import { setup, type TargetOf } from "../setup";
import { freshDatabase, postRaw, type RawOptions } from "../target";

const answer = async (response: Response) => ({ status: response.status, body: (await response.json()) as { error?: string; error_code?: string } });

export const protocolCases = (target: TargetOf) => {
  /** Posts an action on the `items` collection of a fresh database; `envelope` replaces the default envelope fields. */
  const send = (action: string, fields: Record<string, unknown>, options: RawOptions & { envelope?: Record<string, unknown> } = {}) => {
    const database = freshDatabase();
    const envelope = options.envelope ?? { dataSource: "contract", database, collection: "items" };
    return postRaw(target(), database, action, JSON.stringify({ ...envelope, ...fields }), options);
  };

  describe("protocol", () => {
    it("answers an unknown action with 404 ActionNotFound", async () => {
      expect(await answer(await send("dropDatabase", {}))).toEqual({ status: 404, body: { error: "unknown action", error_code: "ActionNotFound" } });
    });

    it("refuses a body over the limit with 413", async () => {
      const response = await send("insertOne", { document: { filler: "x".repeat(DEFAULT_MAX_BODY_BYTES) } });
      expect(await answer(response)).toEqual({
        status: 413,
        body: { error: `request body exceeds ${DEFAULT_MAX_BODY_BYTES} bytes`, error_code: "PayloadTooLarge" },
      });
    });

    it("refuses operators that run code on the server with 400, at any depth", async () => {
      for (const filter of [{ $where: "true" }, { $expr: { $function: { body: "x", args: [], lang: "js" } } }, { $or: [{ a: 1 }, { $where: "1" }] }]) {
        const { status, body } = await answer(await send("find", { filter }));
        expect({ status, code: body.error_code }).toEqual({ status: 400, code: "ForbiddenOperator" });
      }
      const pipeline = [{ $group: { _id: null, x: { $accumulator: { init: "x", accumulate: "y", accumulateArgs: [], merge: "z", lang: "js" } } } }];
      expect((await answer(await send("aggregate", { pipeline }))).body.error_code).toBe("ForbiddenOperator");
    });

    it("refuses aggregation stages that reach other collections with 400", async () => {
      const lookup = { $lookup: { from: "other", localField: "a", foreignField: "b", as: "c" } };
      for (const stage of [{ $out: "elsewhere" }, lookup, { $unionWith: "other" }, { $facet: { nested: [lookup] } }]) {
        const { status, body } = await answer(await send("aggregate", { pipeline: [{ $match: {} }, stage] }));
        expect({ status, code: body.error_code }).toEqual({ status: 400, code: "InvalidParameter" });
      }
    });

    it("refuses aggregation stages that report on the server, or are not on the allow-list, with 400 ForbiddenOperator", async () => {
      const refused = [
        { $collStats: { storageStats: {} } },
        { $indexStats: {} },
        { $currentOp: {} },
        { $planCacheStats: {} },
        { $listSessions: {} },
        { $facet: { nested: [{ $match: {} }, { $collStats: { count: {} } }] } },
      ];
      for (const stage of refused) {
        const { status, body } = await answer(await send("aggregate", { pipeline: [stage] }));
        expect({ status, code: body.error_code }).toEqual({ status: 400, code: "ForbiddenOperator" });
      }
    });

    it("runs the allowed stages", async () => {
      const pipeline = [
        { $match: {} },
        { $addFields: { x: 1 } },
        { $unset: "x" },
        { $sort: { _id: 1 } },
        { $skip: 0 },
        { $limit: 5 },
        { $group: { _id: null, c: { $sum: 1 } } },
      ];
      const response = await send("aggregate", { pipeline });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { documents: unknown[] }).documents).toEqual([]);
    });

    it("names missing and invalid parameters with 400", async () => {
      const missing = await answer(await send("find", {}, { envelope: { dataSource: "contract", database: "contract_missing" } }));
      expect(missing).toEqual({ status: 400, body: { error: "collection is required", error_code: "MissingParameter" } });
      const badDb = await answer(await send("find", {}, { envelope: { dataSource: "contract", database: "a.b", collection: "items" } }));
      expect({ status: badDb.status, code: badDb.body.error_code }).toEqual({ status: 400, code: "InvalidParameter" });
      const tooMany = await answer(await send("find", { limit: 50_001 }));
      expect({ status: tooMany.status, code: tooMany.body.error_code }).toEqual({ status: 400, code: "InvalidParameter" });
    });

    it("refuses media types other than JSON and EJSON with 415", async () => {
      expect((await send("find", {}, { headers: { "content-type": "text/plain" } })).status).toBe(415);
    });

    it("answers plain JSON unless EJSON is asked for: ObjectId as hex, Date as ISO string", async () => {
      const { items, database } = setup(target());
      const id = new ObjectId();
      const at = "2025-05-05T05:05:05.005Z";
      await items.insertOne({ _id: id, at: new Date(at), n: 5 });
      const request = JSON.stringify({ dataSource: "contract", database, collection: "items", filter: { _id: { $oid: id.toHexString() } } });
      const plain = await postRaw(target(), database, "findOne", request);
      expect(plain.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await plain.json()).toEqual({ document: { _id: id.toHexString(), at, n: 5 } });
      const ejson = await postRaw(target(), database, "findOne", request, { headers: { accept: "application/ejson" } });
      expect(ejson.headers.get("content-type")).toMatch(/^application\/ejson/);
      expect(JSON.parse(new TextDecoder().decode(await ejson.arrayBuffer()))).toEqual({
        document: { _id: { $oid: id.toHexString() }, at: { $date: { $numberLong: String(Date.parse(at)) } }, n: { $numberInt: "5" } },
      });
    });

    it("asks for the API key when the server has one: missing or wrong is 401, each documented header works", async () => {
      const key = target().apiKey;
      const find = (headers: Record<string, string>) => send("find", { filter: {} }, { headers, withKey: false });
      if (!key) {
        // The embedded store sits behind a private binding and asks for none.
        expect((await find({})).status).toBe(200);
        return;
      }
      const unauthorized = { status: 401, body: { error: "invalid or missing API key", error_code: "InvalidSession" } };
      expect(await answer(await find({}))).toEqual(unauthorized);
      expect(await answer(await find({ apiKey: `${key}x` }))).toEqual(unauthorized);
      expect(await answer(await find({ apiKey: key.slice(0, -1) }))).toEqual(unauthorized);
      expect(await answer(await find({ authorization: "Bearer nope" }))).toEqual(unauthorized);
      expect((await find({ apiKey: key })).status).toBe(200);
      expect((await find({ "api-key": key })).status).toBe(200);
      expect((await find({ authorization: `Bearer ${key}` })).status).toBe(200);
    });
  });
};

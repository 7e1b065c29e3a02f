import { describe, expect, it } from "vitest";
import { MAX_BODY_VALUES, MAX_BULK_DOCUMENTS } from "../../../src/dataapi/limits";
import { setup, type TargetOf } from "../setup";
import { postRaw } from "../target";

const answer = async (response: Response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> });

export const limitCases = (target: TargetOf) => {
  /** A fresh database, raw posts on its `items` collection, and a client to look at what was stored. */
  const fresh = () => {
    const { database, items } = setup(target());
    const post = (action: string, fields: Record<string, unknown>, headers?: Record<string, string>) =>
      postRaw(target(), database, action, JSON.stringify({ dataSource: "contract", database, collection: "items", ...fields }), { headers });
    return { items, post };
  };

  describe("request deadline", () => {
    it("refuses a request whose deadline has passed with 503 DeadlineExceeded, and applies nothing", async () => {
      const { items, post } = fresh();
      const deadline = Date.now() - 1;
      expect(await answer(await post("insertOne", { document: { n: 1 }, deadline }))).toEqual({
        status: 503,
        body: { error: "the request's deadline has passed", error_code: "DeadlineExceeded" },
      });
      expect((await post("insertMany", { documents: [{ n: 2 }], deadline })).status).toBe(503);
      expect(await items.find({})).toEqual([]);
      await items.insertOne({ _id: "x", n: 0 });
      expect((await post("updateOne", { filter: { _id: "x" }, update: { $inc: { n: 1 } }, deadline })).status).toBe(503);
      expect((await post("deleteMany", { filter: {}, deadline })).status).toBe(503);
      expect(await items.find({})).toEqual([{ _id: "x", n: 0 }]);
    });

    it("runs a request whose deadline is ahead, in plain JSON and in EJSON", async () => {
      const { items, post } = fresh();
      const deadline = Date.now() + 60_000;
      expect(await answer(await post("insertOne", { document: { _id: "a" }, deadline }))).toEqual({ status: 200, body: { insertedId: "a" } });
      const ejson = { deadline: { $numberLong: String(deadline) }, document: { _id: "b" } };
      expect((await post("insertOne", ejson, { "content-type": "application/ejson" })).status).toBe(200);
      expect(await answer(await post("findOne", { filter: { _id: "a" }, deadline }))).toEqual({ status: 200, body: { document: { _id: "a" } } });
      expect(await items.countDocuments({})).toBe(2);
    });

    it("refuses a deadline that is not a number with 400", async () => {
      const { items, post } = fresh();
      for (const deadline of ["2030-01-01T00:00:00Z", String(Date.now() + 60_000), null, true, {}, { $numberDouble: "NaN" }]) {
        const response = await post("insertOne", { document: { n: 1 }, deadline });
        expect(await answer(response)).toEqual({
          status: 400,
          body: { error: "deadline must be a number (milliseconds since the Unix epoch)", error_code: "InvalidParameter" },
        });
      }
      expect(await items.countDocuments({})).toBe(0);
    });
  });

  describe("bulk limits", () => {
    it(`takes ${MAX_BULK_DOCUMENTS} documents in one insertMany and refuses one more with 400, writing none`, async () => {
      const { items, post } = fresh();
      const documents = Array.from({ length: MAX_BULK_DOCUMENTS + 1 }, (_, i) => ({ i }));
      expect(await answer(await post("insertMany", { documents }))).toEqual({
        status: 400,
        body: { error: `documents: at most ${MAX_BULK_DOCUMENTS} documents per request`, error_code: "InvalidParameter" },
      });
      expect(await items.countDocuments({})).toBe(0);
      const ok = await post("insertMany", { documents: documents.slice(1) });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { insertedIds: unknown[] }).insertedIds).toHaveLength(MAX_BULK_DOCUMENTS);
      expect(await items.countDocuments({})).toBe(MAX_BULK_DOCUMENTS);
    });

    it(`refuses a body of more than ${MAX_BODY_VALUES} JSON values with 413 before decoding it`, async () => {
      const { items, post } = fresh();
      const documents = Array.from({ length: MAX_BODY_VALUES }, () => ({}));
      expect(await answer(await post("insertMany", { documents }))).toEqual({
        status: 413,
        body: { error: `request body holds more than ${MAX_BODY_VALUES} JSON values`, error_code: "PayloadTooLarge" },
      });
      // Commas and brackets inside strings are not values.
      const document = { text: "{[,".repeat(MAX_BODY_VALUES) };
      expect((await post("insertOne", { document })).status).toBe(200);
      expect(await items.countDocuments({})).toBe(1);
    });
  });
};

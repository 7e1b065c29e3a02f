import { describe, expect, it } from "vitest";
import { setup, type TargetOf } from "../setup";

const PARALLEL = 20;

export const atomicityCases = (target: TargetOf) =>
  describe("single-document atomicity under concurrency", () => {
    it("parallel $inc through findOneAndUpdate each see a distinct count, and none is lost (the failed-login counter)", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ n: 0 });
      const before = await Promise.all(Array.from({ length: PARALLEL }, () => items.findOneAndUpdate({ _id: id }, { $inc: { n: 1 } })));
      expect(before.map((d) => d?.n).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: PARALLEL }, (_, i) => i));
      expect(await items.findOne({ _id: id }, { projection: { _id: 0 } })).toEqual({ n: PARALLEL });
    });

    it("of parallel guarded transitions exactly one wins (status active → renaming)", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ status: "active", owner: null });
      const outcomes = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) => items.findOneAndUpdate({ _id: id, status: "active" }, { $set: { status: "renaming", owner: i } })),
      );
      expect(outcomes.filter((d) => d !== null)).toHaveLength(1);
      const after = await items.findOne({ _id: id });
      expect(after?.status).toBe("renaming");
      expect(typeof after?.owner).toBe("number");
    });

    it("parallel updateOne $inc add up", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ n: 0 });
      const results = await Promise.all(Array.from({ length: PARALLEL }, () => items.updateOne({ _id: id }, { $inc: { n: 1 } })));
      expect(results.every((r) => r.modifiedCount === 1)).toBe(true);
      expect((await items.findOne({ _id: id }))?.n).toBe(PARALLEL);
    });
  });

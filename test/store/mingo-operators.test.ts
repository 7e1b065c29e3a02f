/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Collection, DataClient } from "../../src/data/client";
import { ALLOWED_STAGES } from "../../src/dataapi/forbidden";
import { OPERATORS } from "../../src/store/mingo";
import { type ContractTarget, postRaw } from "../contract/target";

/**
 * The embedded store registers only some of mingo's operators (src/store/mingo.ts). Every
 * operator the Data API contract suite uses must be among them: this suite reads the contract's
 * cases, finds each `$key:` they write, and runs an example of each through the store. A case
 * that starts using a new operator fails here until it has an example, and so until the store
 * is known to run it.
 */
const cases = import.meta.glob<string>("../contract/cases/*.ts", { query: "?raw", import: "default", eager: true });

/** Every `$name` written as an object key in the contract cases (`"$g"` as a field path is a value, not a key). */
const keysUsed = (): string[] => {
  const keys = new Set<string>();
  for (const source of Object.values(cases)) {
    for (const match of source.matchAll(/(?:^|[^\w$])["']?(\$[A-Za-z]+)["']?\s*:/gm)) if (match[1]) keys.add(match[1]);
  }
  return [...keys].sort();
};

/** Keys that are not operators: EJSON's type wrappers, and arguments of an operator (`$regex`'s `$options`, `$push`'s `$each`). */
const NOT_OPERATORS = ["$oid", "$date", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal", "$binary", "$code", "$scope", "$options", "$each"];

/**
 * Operators the contract expects refused before any engine runs them (src/dataapi/forbidden.ts):
 * they run code, reach other collections, report on the server, or do not exist.
 */
const REFUSED = [
  ...["$where", "$function", "$accumulator"],
  ...["$out", "$lookup", "$unionWith"],
  ...["$collStats", "$indexStats", "$currentOp", "$planCacheStats", "$listSessions"],
  "$bogus",
];

const database = `mingo_ops_${Date.now().toString(36)}`;
const target: ContractTarget = {
  baseUrl: "https://data-store.internal",
  fetch: () => (request) => env.DATA_STORE.get(env.DATA_STORE.idFromName(database)).fetch(request),
  expire: async () => {},
};
const client = new DataClient({ fetch: target.fetch(database), baseUrl: target.baseUrl, dataSource: "t", database, retries: 0 });

let collections = 0;
/** A fresh collection holding `docs` (with `_id` 1, 2, … unless given). */
const seeded = async (docs: Record<string, unknown>[]): Promise<Collection> => {
  const name = `c${collections++}`;
  if (docs.length > 0) await client.call("insertMany", { documents: docs.map((d, i) => ({ _id: i + 1, ...d })) }, name);
  return client.collection(name);
};
const ids = async (coll: Collection, filter: Record<string, unknown>) => (await coll.find(filter, { sort: { _id: 1 } })).map((d) => d._id);
/** The document `_id: 1` after `update`, without its `_id`. */
const updated = async (doc: Record<string, unknown>, update: Record<string, unknown>) => {
  const coll = await seeded([doc]);
  await coll.updateOne({ _id: 1 }, update);
  return coll.findOne({ _id: 1 }, { projection: { _id: 0 } });
};
const numbers = () => seeded([{ n: 1 }, { n: 2 }, { n: 3 }]);

/** One run through the store per operator, as the contract uses it (and, where the name has two roles, in each). */
const EXAMPLES: Record<string, () => Promise<void>> = {
  $eq: async () => expect(await ids(await numbers(), { n: { $eq: 2 } })).toEqual([2]),
  $ne: async () => expect(await ids(await numbers(), { n: { $ne: 2 } })).toEqual([1, 3]),
  $gt: async () => expect(await ids(await numbers(), { n: { $gt: 2 } })).toEqual([3]),
  $gte: async () => expect(await ids(await numbers(), { n: { $gte: 2 } })).toEqual([2, 3]),
  $lt: async () => expect(await ids(await numbers(), { n: { $lt: 2 } })).toEqual([1]),
  $lte: async () => expect(await ids(await numbers(), { n: { $lte: 2 } })).toEqual([1, 2]),
  $in: async () => expect(await ids(await numbers(), { n: { $in: [1, 3] } })).toEqual([1, 3]),
  $nin: async () => expect(await ids(await numbers(), { n: { $nin: [1, 3] } })).toEqual([2]),
  $and: async () => expect(await ids(await numbers(), { $and: [{ n: { $gt: 1 } }, { n: { $lt: 3 } }] })).toEqual([2]),
  $or: async () => expect(await ids(await numbers(), { $or: [{ n: 1 }, { n: 3 }] })).toEqual([1, 3]),
  $nor: async () => expect(await ids(await numbers(), { $nor: [{ n: 1 }, { n: 3 }] })).toEqual([2]),
  $not: async () => expect(await ids(await numbers(), { n: { $not: { $gt: 1 } } })).toEqual([1]),
  $exists: async () => expect(await ids(await seeded([{ a: 1 }, {}]), { a: { $exists: true } })).toEqual([1]),
  $regex: async () => expect(await ids(await seeded([{ s: "Bee" }, { s: "ant" }]), { s: { $regex: "^b", $options: "i" } })).toEqual([1]),
  $expr: async () =>
    expect(
      await ids(
        await seeded([
          { a: 2, b: 1 },
          { a: 1, b: 2 },
        ]),
        { $expr: { $gt: ["$a", "$b"] } },
      ),
    ).toEqual([1]),
  $all: async () => expect(await ids(await seeded([{ t: ["x", "y"] }, { t: ["x"] }]), { t: { $all: ["x", "y"] } })).toEqual([1]),
  $size: async () => expect(await ids(await seeded([{ t: [] }, { t: ["x"] }]), { t: { $size: 0 } })).toEqual([1]),
  $elemMatch: async () => {
    const coll = await seeded([{ s: [1, 5] }, { s: [1, 9] }]);
    expect(await ids(coll, { s: { $elemMatch: { $gt: 4, $lt: 6 } } })).toEqual([1]);
    // In a projection too: the first matching element only.
    const rows = await seeded([{ a: [{ k: 1 }, { k: 2 }] }]);
    expect(await rows.findOne({}, { projection: { _id: 0, a: { $elemMatch: { k: 2 } } } })).toEqual({ a: [{ k: 2 }] });
  },

  $set: async () => {
    expect(await updated({ a: { b: 1 } }, { $set: { "a.b": 2 } })).toEqual({ a: { b: 2 } });
    expect(await (await seeded([{ a: 1 }])).aggregate([{ $set: { b: 2 } }, { $project: { _id: 0 } }])).toEqual([{ a: 1, b: 2 }]);
  },
  $unset: async () => {
    expect(await updated({ a: 1, b: 2 }, { $unset: { b: "" } })).toEqual({ a: 1 });
    expect(await (await seeded([{ a: 1, b: 2 }])).aggregate([{ $unset: ["_id", "b"] }])).toEqual([{ a: 1 }]);
  },
  $inc: async () => expect(await updated({ n: 1 }, { $inc: { n: 2 } })).toEqual({ n: 3 }),
  $mul: async () => expect(await updated({ n: 3 }, { $mul: { n: 4 } })).toEqual({ n: 12 }),
  $min: async () => {
    expect(await updated({ n: 3 }, { $min: { n: 1 } })).toEqual({ n: 1 });
    expect(await (await numbers()).aggregate([{ $group: { _id: null, lo: { $min: "$n" } } }])).toEqual([{ _id: null, lo: 1 }]);
  },
  $max: async () => {
    expect(await updated({ n: 3 }, { $max: { n: 9 } })).toEqual({ n: 9 });
    expect(await (await numbers()).aggregate([{ $group: { _id: null, hi: { $max: "$n" } } }])).toEqual([{ _id: null, hi: 3 }]);
  },
  $rename: async () => expect(await updated({ old: 1 }, { $rename: { old: "renamed" } })).toEqual({ renamed: 1 }),
  $currentDate: async () => expect((await updated({}, { $currentDate: { at: true } }))?.at).toBeInstanceOf(Date),
  $push: async () => expect(await updated({ l: [1] }, { $push: { l: { $each: [2, 3] } } })).toEqual({ l: [1, 2, 3] }),
  $addToSet: async () => expect(await updated({ l: ["a"] }, { $addToSet: { l: "a" } })).toEqual({ l: ["a"] }),
  $pull: async () => expect(await updated({ l: [1, 2, 1] }, { $pull: { l: 1 } })).toEqual({ l: [2] }),
  $pop: async () => expect(await updated({ l: [1, 2] }, { $pop: { l: -1 } })).toEqual({ l: [2] }),
  $setOnInsert: async () => {
    const coll = await seeded([]);
    await coll.updateOne({ k: 1 }, { $set: { a: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(await coll.findOne({ k: 1 }, { projection: { _id: 0 } })).toEqual({ k: 1, a: 1, created: true });
  },

  $match: async () => expect(await (await numbers()).aggregate([{ $match: { n: 2 } }])).toEqual([{ _id: 2, n: 2 }]),
  $project: async () => expect(await (await numbers()).aggregate([{ $match: { n: 1 } }, { $project: { _id: 0, n: 1 } }])).toEqual([{ n: 1 }]),
  $addFields: async () => expect(await (await numbers()).aggregate([{ $match: { n: 1 } }, { $addFields: { x: 1 } }])).toEqual([{ _id: 1, n: 1, x: 1 }]),
  $sort: async () => expect((await (await numbers()).aggregate([{ $sort: { n: -1 } }])).map((d) => d.n)).toEqual([3, 2, 1]),
  $skip: async () => expect((await (await numbers()).aggregate([{ $sort: { n: 1 } }, { $skip: 2 }])).map((d) => d.n)).toEqual([3]),
  $limit: async () => expect((await (await numbers()).aggregate([{ $sort: { n: 1 } }, { $limit: 1 }])).map((d) => d.n)).toEqual([1]),
  $group: async () => expect(await (await numbers()).aggregate([{ $group: { _id: null, c: { $sum: 1 } } }])).toEqual([{ _id: null, c: 3 }]),
  $sum: async () => expect(await (await numbers()).aggregate([{ $group: { _id: null, t: { $sum: "$n" } } }])).toEqual([{ _id: null, t: 6 }]),
  $count: async () => expect(await (await numbers()).aggregate([{ $match: { n: { $gt: 1 } } }, { $count: "c" }])).toEqual([{ c: 2 }]),
  $facet: async () =>
    expect(await (await numbers()).aggregate([{ $facet: { small: [{ $match: { n: 1 } }, { $count: "c" }], all: [{ $count: "c" }] } }])).toEqual([
      { small: [{ c: 1 }], all: [{ c: 3 }] },
    ]),
};

describe("the embedded store's mingo operators", () => {
  it("include every operator the contract suite uses, each shown working through the store", async () => {
    const used = keysUsed();
    // The scan itself works: these appear in the contract as keys, and "$g" (a field path) does not.
    expect(used).toEqual(expect.arrayContaining(["$set", "$group", "$oid", "$where"]));
    expect(used).not.toContain("$g");
    const operators = used.filter((key) => !NOT_OPERATORS.includes(key) && !REFUSED.includes(key));
    expect(operators.filter((op) => !(op in EXAMPLES))).toEqual([]);
    for (const op of operators) {
      const example = EXAMPLES[op];
      if (example) await example().catch((error: unknown) => Promise.reject(new Error(`${op}: ${error instanceof Error ? error.message : error}`)));
    }
  });

  it("register exactly the stages aggregate allows, and none of the refused operators", () => {
    expect(Object.keys(OPERATORS.pipeline).sort()).toEqual([...ALLOWED_STAGES].sort());
    const registered = Object.values(OPERATORS).flatMap((group) => Object.keys(group));
    expect(REFUSED.filter((op) => registered.includes(op))).toEqual([]);
  });

  it("run every allowed stage", async () => {
    const coll = await numbers();
    const pipeline = [
      { $match: { n: { $gte: 1 } } },
      { $addFields: { g: { $cond: [{ $gt: ["$n", 1] }, "big", "small"] } } },
      { $set: { twice: { $multiply: ["$n", 2] } } },
      { $unwind: { path: "$missing", preserveNullAndEmptyArrays: true } },
      { $replaceWith: { n: "$n", g: "$g", twice: "$twice" } },
      { $replaceRoot: { newRoot: "$$ROOT" } },
      { $unset: "twice" },
      { $sort: { n: 1 } },
      { $skip: 0 },
      { $limit: 3 },
      {
        $facet: {
          byGroup: [{ $group: { _id: "$g", total: { $sum: "$n" } } }, { $sort: { _id: 1 } }],
          counted: [{ $sortByCount: "$g" }],
          // No value on an inner boundary: mingo puts one in the bucket below it, MongoDB in the one above.
          buckets: [{ $bucket: { groupBy: "$n", boundaries: [0, 2.5, 4] } }],
          auto: [{ $bucketAuto: { groupBy: "$n", buckets: 1 } }, { $project: { _id: 0, count: 1 } }],
          count: [{ $count: "c" }],
          // Which documents $sample picks (mingo may pick one twice) is its own business: only how many.
          sampled: [{ $sample: { size: 2 } }, { $count: "c" }],
        },
      },
    ];
    expect(await coll.aggregate(pipeline)).toEqual([
      {
        byGroup: [
          { _id: "big", total: 5 },
          { _id: "small", total: 1 },
        ],
        counted: [
          { _id: "big", count: 2 },
          { _id: "small", count: 1 },
        ],
        buckets: [
          { _id: 0, count: 2 },
          { _id: 2.5, count: 1 },
        ],
        auto: [{ count: 3 }],
        count: [{ c: 3 }],
        sampled: [{ c: 2 }],
      },
    ]);
  });

  it("answer an operator the store does not register with a clean 400 InvalidParameter, not a 500", async () => {
    await numbers();
    const refused = [
      ["find", { filter: { n: { $jsonSchema: {} } } }],
      ["find", { filter: { $expr: { $eq: [{ $toUpper: "a" }, "A"] } } }],
      ["find", { filter: {}, projection: { y: { $year: "$$NOW" } } }],
      ["aggregate", { pipeline: [{ $addFields: { u: { $concat: ["a", "b"] } } }] }],
      ["aggregate", { pipeline: [{ $group: { _id: null, s: { $stdDevPop: "$n" } } }] }],
      ["updateOne", { filter: {}, update: [{ $set: { d: { $dateToString: { date: "$$NOW" } } } }] }],
    ] as const;
    for (const [action, body] of refused) {
      const response = await postRaw(target, database, action, JSON.stringify({ dataSource: "t", database, collection: `c${collections - 1}`, ...body }));
      const answer = { action, body, status: response.status, code: ((await response.json()) as { error_code?: string }).error_code };
      expect(answer).toEqual({ action, body, status: 400, code: "InvalidParameter" });
    }
  });
});

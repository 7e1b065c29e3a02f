import { Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { Query } from "mingo/query";
import { describe, expect, it } from "vitest";
import type { Doc } from "../../src/dataapi/engine";
import { forMingo } from "../../src/store/bson-numbers";
import { directProjection, directTest, pathTree } from "../../src/store/direct";
import { inDocumentOrder } from "../../src/store/documents";
import { expression, MINGO_OPTIONS } from "../../src/store/mingo";
import { project } from "../../src/store/reads";
import { restoreTypes } from "../../src/store/retype";
import { readStoredDocument, readStoredPaths, writeStoredDocument } from "../../src/store/stored-form";

/**
 * The store decides some filters without mingo (src/store/direct.ts). Wherever it decides, its
 * answer must be mingo's: every filter below is run against every document, and each decided
 * answer compared with mingo's on the same pair. A shape the direct test claims and gets wrong
 * fails here, whatever the service's own filters happen to be.
 */
const id = new ObjectId("65a000000000000000000001");
const otherId = new ObjectId("65a000000000000000000002");
const at = new Date("2026-01-01T00:00:00Z");

const values: unknown[] = [
  "active",
  "Active",
  "",
  true,
  false,
  null,
  undefined,
  id,
  otherId,
  new Int32(3),
  new Double(3),
  new Double(3.5),
  Long.fromNumber(3),
  Long.fromString("9007199254740993"),
  Decimal128.fromString("3"),
  Decimal128.fromString("0.1"),
  new Double(0.1),
  at,
  new Date(at.getTime() + 1),
  ["active", "x"],
  [true],
  [new Int32(3)],
  { $oid: "not a wrapper here" },
  { nested: "active" },
];

/** Documents holding each value at `a` and at `m.u.v` (a member's token version's shape). */
const documents: Doc[] = [
  { _id: id },
  { _id: otherId, m: {} },
  { _id: id, m: { u: [] } },
  { _id: id, m: [{ u: { v: new Int32(3) } }] },
  ...values.map((value) => ({ _id: id, a: value, m: { u: { v: value } } })),
];

const conditions: unknown[] = [
  ...values.filter((v) => v !== undefined && !Array.isArray(v)),
  ...["$eq", "$ne"].flatMap((op) => values.filter((v) => v !== undefined && !Array.isArray(v)).map((v) => ({ [op]: v }))),
  new Date(at.getTime() + 1),
  new Date(0),
  ...["$gt", "$gte", "$lt", "$lte"].flatMap((op) => [new Int32(3), new Double(2.5), Long.fromNumber(4), at].map((v) => ({ [op]: v }))),
  { $in: ["active", "suspended"] },
  { $in: [id, otherId] },
  { $in: [new Int32(3), true] },
  { $in: [] },
  { $in: ["x", null] },
  { $gt: new Int32(1), $lt: new Int32(5) },
  { $ne: true, $in: [false] },
];

const filters: Doc[] = [{}, { _id: id }, { _id: otherId, a: "active" }, ...conditions.flatMap((c) => [{ a: c }, { "m.u.v": c }, { _id: id, a: c }])];

const mingoMatches = (filter: Doc, doc: Doc): boolean => new Query(expression(filter), MINGO_OPTIONS).test(forMingo(doc));

describe("filters the store decides without mingo", () => {
  it("answers as mingo does wherever it decides, and decides the service's own shapes", () => {
    let decided = 0;
    for (const filter of filters) {
      const test = directTest(filter);
      if (!test) continue;
      for (const doc of documents) {
        const answer = test(doc);
        if (answer === undefined) continue;
        decided++;
        expect({ filter, doc, answer }).toEqual({ filter, doc, answer: mingoMatches(filter, doc) });
      }
    }
    // The grid exercises the direct path, not only mingo's.
    expect(decided).toBeGreaterThan(500);
    const guard = { _id: id, status: "active", "m.u.v": new Int32(3), suspended: { $ne: true } };
    expect(directTest(guard)?.({ _id: id, status: "active", m: { u: { v: new Int32(3) } } })).toBe(true);
    expect(directTest(guard)?.({ _id: id, status: "active", m: { u: { v: new Int32(4) } } })).toBe(false);
    expect(directTest({ status: { $in: ["active", "renaming"] } })?.({ status: "renaming" })).toBe(true);
  });

  it("leaves other shapes to mingo", () => {
    for (const filter of [
      { $or: [{ a: 1 }] },
      { a: { $regex: "x" } },
      { "a.0": "x" },
      { a: { b: 1 } },
      { a: { constructor: 1 } },
      { a: { $ne: true, toString: 1 } },
      JSON.parse('{"a": {"__proto__": 1}}') as Doc,
      { a: { $constructor: 1 } },
      { a: { $exists: true } },
      JSON.parse('{"__proto__": "x"}') as Doc,
    ]) {
      expect(directTest(filter), JSON.stringify(filter)).toBeUndefined();
    }
  });
});

describe("projections the store makes without mingo", () => {
  const doc = { name: "n", _id: id, collection_name: "c", nested: { x: new Int32(1) }, n: new Int32(2) };
  const projections: Doc[] = [{ collection_name: 1 }, { collection_name: 1, _id: 0 }, { _id: 1 }, { _id: 0, n: true, nested: 1 }, { missing: 1 }];
  const viaMingo = (projection: Doc, source: Doc): Doc => {
    const [out] = new Query({}, MINGO_OPTIONS).find([forMingo(source)], expression(projection)).all() as Doc[];
    return inDocumentOrder(restoreTypes(out ?? {}, { before: source }), source);
  };

  it("gives what mingo's projection gives, in the document's order", () => {
    for (const projection of projections) {
      const direct = directProjection(projection);
      expect(direct, JSON.stringify(projection)).toBeDefined();
      expect(direct?.(doc)).toEqual(viaMingo(projection, doc));
      expect(Object.keys(direct?.(doc) ?? {})).toEqual(Object.keys(project(doc, projection)));
    }
  });

  it("narrows embedded documents to the named paths as mingo does, and leaves arrays on a path to mingo", () => {
    const member = { user_id: id, role: "owner", token_version: new Int32(3), joined_at: at };
    const shapes: Doc[] = [
      { _id: id, slug: "s", members: { u1: member, u2: { ...member, role: "member" } }, status: "active" },
      { _id: id, members: { u2: member } },
      { _id: id, members: {} },
      { _id: id, members: { u1: "scalar" } },
      { _id: id, members: { u1: { role: "owner", user_id: id, nested: { deep: new Int32(1), other: new Double(2.5) } } } },
      { _id: id, members: "scalar" },
      { _id: id, members: null },
      { _id: id, members: id },
      { _id: id, members: at },
      { _id: id, members: new Int32(4) },
      { slug: "no id", members: { u1: member } },
      { _id: id },
      { _id: id, members: [member] },
      { _id: id, members: { u1: [member] } },
    ];
    const dotted: Doc[] = [
      { "members.u1": 1 },
      { "members.u1": 1, slug: 1, status: true },
      { "members.u1": 1, "members.u2": 1, _id: 0 },
      { "members.u1.role": 1, "members.u1.token_version": 1 },
      { "members.u1.nested.deep": 1, slug: 1 },
    ];
    let decided = 0;
    for (const projection of dotted) {
      const direct = directProjection(projection);
      expect(direct, JSON.stringify(projection)).toBeDefined();
      for (const shape of shapes) {
        const answer = direct?.(shape);
        if (answer === undefined) continue;
        decided++;
        expect({ projection, shape, answer }).toEqual({ projection, shape, answer: viaMingo(projection, shape) });
        expect(Object.keys(answer)).toEqual(Object.keys(viaMingo(projection, shape)));
      }
      // An array on an included path is mingo's, element by element.
      expect(direct?.({ _id: id, members: [member] })).toBeUndefined();
    }
    expect(decided).toBeGreaterThan(50);
  });

  it("leaves exclusions, operators and colliding paths to mingo", () => {
    for (const projection of [
      { _id: 0 },
      { name: 0 },
      { "nested.0": 1 },
      { "a.$": 1 },
      { a: 1, "a.b": 1 },
      { "a.b": 1, a: 1 },
      { "_id.x": 1 },
      { n: { $slice: 1 } },
    ])
      expect(directProjection(projection), JSON.stringify(projection)).toBeUndefined();
  });
});

describe("documents typed only along the paths a find reads", () => {
  const member = { user_id: id, role: "owner", token_version: new Int32(3), joined_at: at, ratio: new Double(2), big: Long.fromString("9007199254740993") };
  const shapes: Doc[] = [
    ...documents,
    { _id: id, slug: "s", status: "active", members: { u1: member, u2: { ...member, role: "member" } }, a: new Int32(3) },
    { _id: id, members: { u1: [member] }, a: [new Int32(3)] },
    { _id: id, members: [member], a: { nested: new Double(1) } },
    { _id: id, members: { u2: { odd: { $foo: 1 } } }, a: at },
  ];
  const reads: { filter: Doc; projection: Doc }[] = [
    ...filters.map((filter) => ({ filter, projection: { a: 1 } })),
    ...filters.map((filter) => ({ filter, projection: { "m.u": 1, _id: 0 } })),
    { filter: { _id: id, "members.u1.token_version": new Int32(3) }, projection: { "members.u1": 1, slug: 1 } },
    { filter: { status: "active" }, projection: { "members.u1.role": 1, "members.u1.ratio": 1, "members.u1.big": 1 } },
    { filter: { a: new Int32(3) }, projection: { members: 1 } },
  ];
  const writtenAndRead = (doc: Doc) => {
    const text = writeStoredDocument(doc);
    return { text, full: readStoredDocument(text) };
  };
  // A plain object named like a wrapper (`{$oid: "x"}`, in the grid above) cannot be stored: EJSON input reads it as the wrapper or refuses it.
  const storable = shapes.filter((shape) => !JSON.stringify(shape).includes('"$oid":"not'));

  it("gives the direct test and projection the answers the whole document gives", () => {
    let compared = 0;
    for (const shape of storable) {
      const { text, full } = writtenAndRead(shape);
      for (const { filter, projection } of reads) {
        const test = directTest(filter);
        const narrow = directProjection(projection);
        if (!test || !narrow) continue;
        const partial = readStoredPaths(text, pathTree(["_id", ...Object.keys(filter), ...Object.keys(projection)]).tree);
        if (!partial) continue;
        compared++;
        const answers = (doc: Doc) => ({ matches: test(doc), projected: narrow(doc) });
        // Strictly: a bare number where the whole read gives an Int32 is a difference.
        expect({ shape, filter, projection, ...answers(partial) }).toStrictEqual({ shape, filter, projection, ...answers(full) });
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });

  it("leaves what no path names as parsed, and a document that needs EJSON on a path to the whole read", () => {
    const { text } = writtenAndRead({ _id: id, slug: "s", members: { u1: member, u2: member } });
    const partial = readStoredPaths(text, pathTree(["_id", "members.u1.role", "members.u1"]).tree);
    const members = (partial?.members ?? {}) as Record<string, Doc>;
    expect(partial?._id).toStrictEqual(id);
    expect(members.u1).toStrictEqual(member);
    expect(members.u2?.user_id).toStrictEqual({ $oid: id.toHexString() });
    const odd = writeStoredDocument({ _id: id, a: { $foo: 1 } as Doc, b: "x" });
    expect(readStoredPaths(odd, pathTree(["_id", "b"]).tree)).toStrictEqual({ _id: id, a: { $foo: 1 }, b: "x" });
    expect(readStoredPaths(odd, pathTree(["_id", "a"]).tree)).toBeUndefined();
  });
});

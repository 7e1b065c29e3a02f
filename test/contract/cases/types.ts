import { describe, expect, it } from "vitest";
import type { Doc } from "../../../src/dataapi/engine";
import { type ContractTarget, freshDatabase, postRaw } from "../target";

type Ejson = Record<string, unknown>;

/**
 * One database and a raw EJSON conversation with it: bodies are written and answers read as
 * canonical EJSON text, so what is checked is the wire form itself, not what a parser made of it.
 */
const conversation = (target: ContractTarget) => {
  const database = freshDatabase();
  const send = async (action: string, fields: Ejson, accept = "application/ejson") => {
    const body = JSON.stringify({ dataSource: "contract", database, collection: "items", ...fields });
    const response = await postRaw(target, database, action, body, { headers: { "content-type": "application/ejson", accept } });
    const text = new TextDecoder().decode(await response.arrayBuffer()); // EJSON: workerd warns on .text() of a non-text type
    return { status: response.status, text, body: JSON.parse(text) as Ejson };
  };
  const ok = async (action: string, fields: Ejson) => {
    const answer = await send(action, fields);
    expect(answer.status, answer.text).toBe(200);
    return answer.body;
  };
  return {
    send,
    ok,
    insert: (...documents: Ejson[]) => ok("insertMany", { documents }),
    findOne: async (filter: Ejson, extra: Ejson = {}) => (await ok("findOne", { filter, ...extra })).document as Ejson | null,
    find: async (filter: Ejson, extra: Ejson = {}) => (await ok("find", { filter, ...extra })).documents as Ejson[],
  };
};

const int = (n: number) => ({ $numberInt: String(n) });
const long = (digits: string) => ({ $numberLong: digits });
const double = (text: string) => ({ $numberDouble: text });

export const typeCases = (target: () => ContractTarget) =>
  describe("BSON types in canonical EJSON", () => {
    /** Inserts `value` as field `v` and expects it back exactly as sent, or, where the server cannot store it, the clean 400. */
    const roundTrip = async (value: Ejson, unsupported: boolean) => {
      const db = conversation(target());
      const inserted = await db.send("insertOne", { document: { _id: int(1), v: value } });
      if (unsupported) {
        expect({ status: inserted.status, code: inserted.body.error_code }).toEqual({ status: 400, code: "InvalidParameter" });
        expect(await db.findOne({})).toBeNull();
        return;
      }
      expect(inserted.status, inserted.text).toBe(200);
      expect(await db.findOne({ _id: int(1) })).toEqual({ _id: int(1), v: value });
      expect(await db.findOne({ v: value })).toEqual({ _id: int(1), v: value });
    };
    const lacks = (type: NonNullable<ContractTarget["unsupportedTypes"]>[number]) => target().unsupportedTypes?.includes(type) ?? false;

    it("Int32 round-trips, compares with other number types, and $inc keeps it Int32 (overflowing into Int64)", async () => {
      await roundTrip(int(5), false);
      const db = conversation(target());
      await db.insert({ _id: int(1), n: int(5) }, { _id: int(2), n: int(2147483647) }, { _id: int(3), n: int(2) });
      expect((await db.find({ n: { $gt: int(3) } }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual([int(1), int(2)]);
      expect((await db.find({ n: { $gt: double("3.5") } }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual([int(1), int(2)]);
      expect((await db.find({ n: { $lte: long("5") } }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual([int(1), int(3)]);
      await db.ok("updateMany", { filter: {}, update: { $inc: { n: int(1) } } });
      expect(await db.find({}, { sort: { _id: 1 } })).toEqual([
        { _id: int(1), n: int(6) },
        { _id: int(2), n: long("2147483648") },
        { _id: int(3), n: int(3) },
      ]);
    });

    it("Int64 round-trips exactly beyond 2^53, stays Int64 when small, and $inc keeps it exact", async () => {
      await roundTrip(long("9007199254740993"), false);
      await roundTrip(long("5"), false);
      await roundTrip(long("-9223372036854775808"), false);
      const db = conversation(target());
      await db.insert({ _id: int(1), n: long("9007199254740993") }, { _id: int(2), n: long("5") });
      expect((await db.find({ n: { $gt: int(3) } }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual([int(1), int(2)]);
      await db.ok("updateOne", { filter: { _id: int(1) }, update: { $inc: { n: int(1) } } });
      await db.ok("updateOne", { filter: { _id: int(2) }, update: { $inc: { n: long("2") } } });
      expect(await db.find({}, { sort: { _id: 1 } })).toEqual([
        { _id: int(1), n: long("9007199254740994") },
        { _id: int(2), n: long("7") },
      ]);
    });

    it("Double round-trips, whole-valued ones too, and $inc with a Double makes a Double", async () => {
      for (const text of ["5.0", "2.5", "1e+300", "-1e-300"]) await roundTrip(double(text), false);
      const db = conversation(target());
      await db.insert({ _id: int(1), n: int(2) }, { _id: int(2), n: double("2.0") });
      await db.ok("updateOne", { filter: { _id: int(1) }, update: { $inc: { n: double("0.5") } } });
      await db.ok("updateOne", { filter: { _id: int(2) }, update: { $inc: { n: int(1) } } });
      expect(await db.find({}, { sort: { _id: 1 } })).toEqual([
        { _id: int(1), n: double("2.5") },
        { _id: int(2), n: double("3.0") },
      ]);
    });

    it("Double -0, NaN and Infinity round-trip where the server stores them", async () => {
      await roundTrip(double("NaN"), lacks("nan"));
      await roundTrip(double("Infinity"), lacks("infinity"));
      await roundTrip(double("-Infinity"), lacks("infinity"));
      if (!lacks("negativeZero")) {
        await roundTrip(double("-0.0"), false);
        return;
      }
      // FerretDB 1.x stores -0 as 0: a documented loss of that server, not of the protocol.
      const db = conversation(target());
      await db.insert({ _id: int(1), v: double("-0.0") });
      expect(await db.findOne({})).toEqual({ _id: int(1), v: double("0.0") });
    });

    it("Decimal128 round-trips exactly, or is a clean 400 where the server has no Decimal128", async () => {
      await roundTrip({ $numberDecimal: "9823.1297" }, lacks("decimal128"));
      await roundTrip({ $numberDecimal: "0.1000000000000000000000000000000001" }, lacks("decimal128"));
      const filter = await conversation(target()).send("find", { filter: { v: { $numberDecimal: "1.5" } } });
      expect(filter.status, filter.text).toBe(lacks("decimal128") ? 400 : 200);
    });

    it("Date, ObjectId and Binary round-trip", async () => {
      await roundTrip({ $date: { $numberLong: "1641954803067" } }, false);
      await roundTrip({ $date: { $numberLong: "-62135596800000" } }, false);
      await roundTrip({ $oid: "65a1b2c3d4e5f60718293a4b" }, false);
      await roundTrip({ $binary: { base64: "AAEC/v8=", subType: "00" } }, false);
      await roundTrip({ $binary: { base64: "6b0bZ0Z5Qb2Xk8xv3jA8aw==", subType: "04" } }, false);
    });

    it("treats numbers equal in value as one key: numeric _id and unique indexes", async () => {
      const db = conversation(target());
      await db.ok("createIndexes", { indexes: [{ key: { n: int(1) }, name: "n_unique", unique: true }] });
      await db.insert({ _id: int(7), n: int(1) });
      for (const n of [double("1.0"), long("1")]) expect((await db.send("insertOne", { document: { n } })).status).toBe(409);
      expect((await db.send("insertOne", { document: { _id: long("7"), n: int(2) } })).status).toBe(409);
      expect((await db.send("insertOne", { document: { _id: double("7.0"), n: int(3) } })).status).toBe(409);
      expect(await db.findOne({ _id: double("7.0") })).toEqual({ _id: int(7), n: int(1) });
      expect(await db.findOne({ n: long("1") })).toEqual({ _id: int(7), n: int(1) });
    });

    it("sorts numbers of different types by value and answers each in its own type", async () => {
      const db = conversation(target());
      await db.insert({ _id: int(1), n: int(3) }, { _id: int(2), n: long("1") }, { _id: int(3), n: double("2.5") }, { _id: int(4), n: double("10.0") });
      expect((await db.find({}, { sort: { n: 1 } })).map((d) => d.n)).toEqual([long("1"), double("2.5"), int(3), double("10.0")]);
    });

    it("refuses JavaScript code values with 400, in documents and filters alike", async () => {
      const db = conversation(target());
      for (const [action, fields] of [
        ["find", { filter: { v: { $code: "return 1" } } }],
        ["insertOne", { document: { v: { $code: "x", $scope: {} } } }],
      ] as const) {
        const answer = await db.send(action, fields);
        expect({ status: answer.status, code: answer.body.error_code }).toEqual({ status: 400, code: "InvalidParameter" });
      }
    });

    it("returns projected fields in the document's order, _id first, as MongoDB does", async () => {
      const db = conversation(target());
      await db.insert({ b: int(2), _id: int(1), a: int(1), c: int(3) });
      expect(Object.keys((await db.findOne({}, { projection: { c: 1, a: 1 } })) as Doc)).toEqual(["_id", "a", "c"]);
      expect(Object.keys((await db.find({}, { projection: { c: 1, b: 1, _id: 1 } }))[0] as Doc)).toEqual(["_id", "b", "c"]);
      expect(Object.keys((await db.findOne({})) as Doc)).toEqual(["_id", "b", "a", "c"]);
    });

    it("answers plain JSON in the hosted API's documented forms", async () => {
      const db = conversation(target());
      const decimal = lacks("decimal128") ? {} : { weight: { $numberDecimal: "9823.1297" } };
      await db.insert({
        _id: { $oid: "65a1b2c3d4e5f60718293a4b" },
        year: long("2022"),
        big: long("9007199254740993"),
        int: int(5),
        whole: double("5.0"),
        at: { $date: { $numberLong: "1641954803067" } },
        bytes: { $binary: { base64: "AAEC/v8=", subType: "05" } },
        ...decimal,
      });
      const plain = await db.send("findOne", { filter: {} }, "application/json");
      expect(plain.status).toBe(200);
      // The exact digits are on the wire, though a JS parser rounds them (to 2^53) below.
      expect(plain.text).toContain('"big":9007199254740993');
      expect(plain.body.document).toEqual({
        _id: "65a1b2c3d4e5f60718293a4b",
        year: 2022,
        big: 2 ** 53,
        int: 5,
        whole: 5,
        at: "2022-01-12T02:33:23.067Z",
        bytes: { Subtype: 5, Data: "AAEC/v8=" },
        ...(lacks("decimal128") ? {} : { weight: "9823.1297" }),
      });
    });
  });

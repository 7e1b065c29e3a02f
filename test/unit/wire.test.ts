import { Binary, BSONRegExp, Decimal128, Double, EJSON, Int32, Long, ObjectId, Timestamp } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseEjson, parseTypedEjson, stringifyEjson } from "../../src/dataapi/ejson";
import { answerValue, CARRIED_TAGS, readAnswerValue, readRequestValue, requestValue } from "../../src/dataapi/wire";
import { decodeDocument, encodeDocument } from "../../src/store/documents";
import { compactNumbers } from "../../src/store/stored-form";

/**
 * The Worker and its Durable Object trade structured-clone values where EJSON text used to pass, and the object
 * reads its stored documents without EJSON's reviver: both must give exactly what EJSON gave.
 */
const key = fc.oneof(
  fc.constantFrom("a", "b", "_id", "data", "$set", "$gt", "$oid", "$date", "$numberLong", "$ref", "__proto__", "x\0y", "\ud800"),
  fc.string(),
);
const scalar = fc.oneof(
  fc.string(),
  fc.constantFrom("\udc00 lone", "é", ""),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63, 1e300, Number.NaN, Number.POSITIVE_INFINITY),
  fc.boolean(),
  fc.constant(null),
  fc.integer().map((n) => new Int32(n)),
  fc.double().map((n) => new Double(n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.constantFrom(Decimal128.fromString("1.50"), Decimal128.fromString("-0"), new ObjectId(), new Date(0), new Date(8.64e15), new Date(Number.NaN)),
  fc.constantFrom(new Binary(new Uint8Array([1, 2])), new BSONRegExp("a", "i"), /b/m, new Timestamp({ t: 1, i: 2 })),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, scalar, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 4 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

/** What EJSON text gives, or the error it throws. */
const viaText = (read: (text: string) => unknown, doc: unknown): unknown => {
  try {
    return read(stringifyEjson(doc));
  } catch (error) {
    return error instanceof Error ? error.constructor.name : error;
  }
};

describe("structured-clone values between the Worker and its Durable Object", () => {
  it("a request reads back as canonical EJSON text would, or goes as text", () => {
    fc.assert(
      fc.property(value, (doc) => {
        const sent = requestValue(doc);
        if (sent) expect(readRequestValue(structuredClone(sent))).toStrictEqual(viaText(parseTypedEjson, doc));
      }),
      { numRuns: 2000 },
    );
  });

  it("an answer reads back as relaxed EJSON text would, or goes as text", () => {
    fc.assert(
      fc.property(value, (doc) => {
        const typed = viaText(parseTypedEjson, doc);
        if (typeof typed === "string") return;
        const sent = answerValue(typed);
        if (sent) expect(readAnswerValue(structuredClone(sent))).toStrictEqual(viaText(parseEjson, typed));
      }),
      { numRuns: 2000 },
    );
  });

  it("writes no $ name but its tags, which the read cache's keys allow (src/store/read-cache.ts)", () => {
    const dollarNames = (tree: unknown, into: Set<string>): Set<string> => {
      if (tree && typeof tree === "object" && !(tree instanceof Date)) {
        for (const [name, inner] of Object.entries(tree)) {
          if (name.startsWith("$")) into.add(name);
          dollarNames(inner, into);
        }
      }
      return into;
    };
    // The names the conversion wrote: those of the value sent that the document did not hold itself.
    const written = (doc: unknown): string[] => {
      const own = dollarNames(doc, new Set());
      return [...dollarNames(requestValue(doc as Record<string, unknown>), new Set())].filter((name) => !own.has(name));
    };
    const carried = new Set<string>(CARRIED_TAGS);
    fc.assert(
      fc.property(value, (doc) => {
        for (const name of written(doc)) expect(carried).toContain(name);
      }),
      { numRuns: 2000 },
    );
    const every = { a: new ObjectId(), b: new Double(1.5), c: Long.fromNumber(2 ** 60), d: Decimal128.fromString("1.5") };
    expect(written(every).sort()).toEqual([...CARRIED_TAGS].sort());
  });

  it("carries the documents a record page holds", () => {
    const doc = { _id: new ObjectId(), org_id: new ObjectId(), created_at: new Date(), data: { n: 5, big: 2 ** 40, f: 1.5, s: "é", list: [1, "a"] } };
    const request = requestValue({ document: doc, deadline: Date.now() });
    expect(request).toBeDefined();
    const typed = readRequestValue(structuredClone(request as Record<string, unknown>));
    expect((typed.document as { data: { big: unknown } }).data.big).toStrictEqual(Long.fromNumber(2 ** 40));
    expect(answerValue({ documents: [typed.document] })).toBeDefined();
    expect(requestValue({ filter: { name: { $regex: "^a" } } })).toBeUndefined();
  });
});

const outcome = <T>(read: (input: T) => unknown, text: T): unknown => {
  try {
    return read(text);
  } catch (error) {
    return error instanceof Error ? error.constructor.name : error;
  }
};

describe("stored documents read without EJSON's reviver", () => {
  it("are written as EJSON with the compacting replacer writes them", () => {
    const replacer = compactNumbers as (key: string, value: unknown) => unknown;
    fc.assert(
      fc.property(value, (doc) => {
        expect(outcome(encodeDocument, doc as never)).toStrictEqual(
          outcome((d) => EJSON.stringify(d as never, replacer, undefined, { relaxed: false }), doc as never),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("read back as EJSON.parse reads them", () => {
    fc.assert(
      fc.property(value, (doc) => {
        let text: string;
        try {
          text = encodeDocument(doc);
        } catch {
          return;
        }
        expect(outcome(decodeDocument, text)).toStrictEqual(outcome((t) => EJSON.parse(t, { relaxed: false }), text));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads the forms stored before: relaxed dates and numbers, wrappers beside other names", () => {
    for (const text of [
      '{"_id":{"$oid":"0123456789abcdef01234567"},"at":{"$date":"2020-01-02T03:04:05.006Z"},"n":5,"l":{"$numberLong":"7"}}',
      '{"a":{"$numberDouble":"-0.0"},"b":{"$numberDouble":"NaN"},"c":1.5,"d":4294967296,"e":{"$numberDecimal":"1.10"}}',
      '{"a":{"$oid":"0123456789abcdef01234567","x":1},"b":{"$foo":1},"c":{"$ref":"c","$id":1}}',
      '{"a":[{"$date":{"$numberLong":"-5"}},[1e400]],"__proto__":{"x":1}}',
    ]) {
      expect(decodeDocument(text)).toStrictEqual(EJSON.parse(text, { relaxed: false }));
    }
  });
});

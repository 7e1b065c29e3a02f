import { type Binary, type Decimal128, Double, EJSON, Int32, Long, type ObjectId } from "bson";

type Serializable = Parameters<typeof EJSON.stringify>[0];

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
// As bson writes them: 2^63 - 1 rounds to 2^63 as a double.
export const INT64_MIN = -(2 ** 63);
export const INT64_MAX = 2 ** 63 - 1;

/** A bare JSON number as canonical EJSON types it: Int32 in its range, Int64 beyond it, else Double. */
export const canonicalNumber = (n: number): Int32 | Long | Double => {
  if (Number.isInteger(n) && !Object.is(n, -0)) {
    if (n >= INT32_MIN && n <= INT32_MAX) return new Int32(n);
    if (n >= INT64_MIN && n <= INT64_MAX) return Long.fromNumber(n);
  }
  return new Double(n);
};

/**
 * A BSON value's type name. Read from `_bsontype`, not by `instanceof`: the driver's values come
 * from its own copy of bson when the gateway is bundled, and their classes are not ours.
 */
const bsonType = (value: unknown): string | undefined =>
  typeof value === "object" && value !== null ? ((value as { _bsontype?: unknown })._bsontype as string | undefined) : undefined;

/**
 * Requests, canonical or relaxed EJSON, parsed into BSON classes: `{"$numberLong":"5"}` stays a
 * Long, `{"$numberDouble":"5.0"}` a Double and `-0`, NaN and Decimal128 what they are, so every
 * type reaches storage as sent. Plain JSON numbers get the type a driver would give them
 * (Int32, Int64, or Double when not integral).
 */
export const parseTypedEjson = (text: string): unknown => EJSON.parse(text, { relaxed: false });

/**
 * The Worker's client reads answers in relaxed mode: numbers become plain JS numbers (what the
 * domain computes with) while ObjectId, Date and the other BSON types keep their classes.
 */
export const parseEjson = (text: string): unknown => EJSON.parse(text, { relaxed: true });

export const stringifyEjson = (value: unknown): string => EJSON.stringify(value as Serializable, { relaxed: false });

/**
 * BSON numbers as JS numbers, for the protocol's own options (`limit`, `sort`, `projection`,
 * index specs): their values matter, not their BSON types.
 */
export const toJsNumbers = (value: unknown, depth = 0): unknown => {
  const type = bsonType(value);
  if (type === "Int32" || type === "Double") return (value as Int32 | Double).value;
  if (type === "Long") return (value as Long).toNumber();
  if (type === "Decimal128") return Number((value as Decimal128).toString());
  if (depth > 100) return value;
  if (Array.isArray(value)) return value.map((v) => toJsNumbers(v, depth + 1));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsNumbers(v, depth + 1)]));
};

/** `JSON.rawJSON` (V8 11.4+, so workerd and Node 22) writes digits a JS number cannot hold. */
const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/** A non-finite double has no JSON number: it stays in its EJSON form. */
const jsonNumber = (n: number): unknown => (Number.isFinite(n) ? n : { $numberDouble: Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity" });

/**
 * One value in the hosted Data API's plain JSON forms, as its "Data Formats" page documents them
 * (https://www.mongodb.com/docs/atlas/app-services/data-api/data-formats/): Int32, Int64 and
 * Double as JSON numbers (an Int64 beyond 2^53 keeps its exact digits), Decimal128 as its
 * string, Date as an ISO string, ObjectId as its hex string, Binary as `{"Subtype", "Data"}`
 * with the bytes in base64. Types the page gives no JSON form stay in relaxed EJSON.
 */
const toPlainJson = (value: unknown, depth: number): unknown => {
  if (typeof value === "number") return jsonNumber(value);
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  switch (bsonType(value)) {
    case "ObjectId":
      return (value as ObjectId).toHexString();
    case "Int32":
    case "Double":
      return jsonNumber((value as Int32 | Double).value);
    case "Long": {
      const n = (value as Long).toNumber();
      return Number.isSafeInteger(n) || !rawJson ? n : rawJson((value as Long).toString());
    }
    case "Decimal128":
      return (value as Decimal128).toString();
    case "Binary":
      return { Subtype: (value as Binary).sub_type, Data: (value as Binary).toString("base64") };
  }
  if (depth > 200) throw new RangeError("document nested too deeply");
  if (Array.isArray(value)) return value.map((v) => toPlainJson(v, depth + 1));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainJson(v, depth + 1)]));
  return EJSON.serialize({ v: value } as Serializable, { relaxed: true }).v;
};

/** Plain JSON for clients that did not ask for EJSON (see `toPlainJson`). */
export const stringifyPlainJson = (value: unknown): string => JSON.stringify(toPlainJson(value, 0));

export const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

import { BSONRegExp, Decimal128, Double, Int32, Long } from "bson";
import { INT32_MAX, INT32_MIN, isPlainObject } from "../dataapi/ejson";

/** The BSON number types documents keep: Int32, Int64 (Long), Double and Decimal128. */
export type BsonNumber = Int32 | Long | Double | Decimal128;

export const isBsonNumber = (value: unknown): value is BsonNumber =>
  value instanceof Int32 || value instanceof Long || value instanceof Double || value instanceof Decimal128;

/** The nearest JS number: exact for Int32 and Double, and for Int64 within 2^53. */
export const numberOf = (value: BsonNumber): number => {
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return value.value;
};

/**
 * A value as mingo must see it. mingo knows JS numbers only (it would compare an Int32 with
 * a Long by their class names), so BSON numbers become JS numbers; in filters, BSONRegExp (how
 * EJSON decodes `{"$regex"}`) becomes the JS RegExp mingo matches with, dropping flags
 * JavaScript lacks (x, l). Int64 beyond 2^53 and Decimal128 compare as their nearest double.
 */
export const forMingo = <T>(value: T, regexps = false, depth = 0): T => {
  if (isBsonNumber(value)) return numberOf(value) as T;
  if (regexps && value instanceof BSONRegExp) return new RegExp(value.pattern, value.options.replace(/[^imsu]/g, "")) as T;
  if (depth > 200) return value;
  if (Array.isArray(value)) return value.map((v) => forMingo(v, regexps, depth + 1)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = forMingo(v, regexps, depth + 1);
  return out as T;
};

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** The type a number mingo computed gets when nothing says otherwise, as a driver would type it. */
export const inferred = (n: number): BsonNumber => {
  if (Number.isInteger(n) && !Object.is(n, -0)) {
    if (n >= INT32_MIN && n <= INT32_MAX) return new Int32(n);
    if (Number.isSafeInteger(n)) return Long.fromNumber(n);
  }
  return new Double(n);
};

/** An exact integer result in the narrowest of Int32 and Int64 its operands allow; undefined on Int64 overflow. */
export const integerResult = (result: bigint, wide: boolean): Int32 | Long | undefined => {
  if (!wide && result >= BigInt(INT32_MIN) && result <= BigInt(INT32_MAX)) return new Int32(Number(result));
  if (result >= LONG_MIN && result <= LONG_MAX) return Long.fromBigInt(result);
  return undefined;
};

/** A Decimal128 as its number when that number writes the same decimal (1.5, 2, 2.0); otherwise undefined. */
const decimalAsNumber = (value: Decimal128): number | undefined => {
  const text = value.toString();
  const n = Number(text);
  if (!Number.isFinite(n)) return undefined;
  const trimmed = text.includes(".") && !/e/i.test(text) ? text.replace(/\.?0+$/, "") : text;
  return String(n) === trimmed ? n : undefined;
};

/**
 * The form of a number in index and `_id` keys. MongoDB compares numbers by value across types
 * (1, 1.0 and Long(1) are one key), so every type maps to one form: the JS number where that is
 * exact (the form keys had when documents were stored as plain numbers), the exact Int64 for
 * integers beyond 2^53 (a Long or an integral Double), and the decimal text otherwise.
 */
export const keyNumber = (value: BsonNumber | number): unknown => {
  if (value instanceof Decimal128) return decimalAsNumber(value) ?? value;
  if (value instanceof Long) return Number.isSafeInteger(value.toNumber()) ? value.toNumber() : value;
  const n = typeof value === "number" ? value : value.value;
  if (Object.is(n, -0)) return 0;
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && BigInt(n) >= LONG_MIN && BigInt(n) <= LONG_MAX) return Long.fromBigInt(BigInt(n));
  return n;
};

/** `keyNumber` applied throughout a value. */
export const forKey = (value: unknown, depth = 0): unknown => {
  if (isBsonNumber(value) || typeof value === "number") return keyNumber(value);
  if (depth > 200) return value;
  if (Array.isArray(value)) return value.map((v) => forKey(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = forKey(v, depth + 1);
  return out;
};

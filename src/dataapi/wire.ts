import { BSON, Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { isPlainObject } from "./ejson";

/**
 * The Worker and its Durable Object exchange actions as BSON bytes over RPC: the bytes pass as
 * one structured-clone value, and BSON decodes without the per-value reviver that EJSON text
 * costs on both sides. The values must come out exactly as the EJSON text would have given them
 * (canonical EJSON for requests, relaxed for answers), so only a tree whose every value both
 * encodings carry alike takes this way; anything else (rare types, EJSON's `$` wrapper names,
 * ill-formed UTF-16) is sent as EJSON text, which every caller still accepts.
 */

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Object keys EJSON reads as a type wrapper or a DBRef: BSON would keep them as plain objects. */
const EJSON_KEYS = new Set([
  "$oid",
  "$binary",
  "$uuid",
  "$symbol",
  "$numberInt",
  "$numberDecimal",
  "$numberDouble",
  "$numberLong",
  "$minKey",
  "$maxKey",
  "$regex",
  "$regularExpression",
  "$timestamp",
  "$date",
  "$code",
  "$undefined",
  "$dbPointer",
  "$ref",
]);

/** BSON writes UTF-8, which has no lone surrogates; EJSON text escapes them and gives them back. */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

const NOT_CARRIED = Symbol("not carried");

/**
 * A value as BSON must carry it to read back as canonical EJSON would: a whole JS number past
 * Int32 is an Int64 there (BSON would write a double), so it becomes a Long; every other value is
 * kept, and objects are copied only where something changed. NOT_CARRIED when it must go as text.
 */
const forRequest = (value: unknown, depth: number): unknown => {
  switch (typeof value) {
    case "string":
      return wellFormed(value) ? value : NOT_CARRIED;
    case "number":
      if (!Number.isInteger(value) || (value >= INT32_MIN && value <= INT32_MAX)) return value;
      return Number.isSafeInteger(value) ? Long.fromNumber(value) : NOT_CARRIED;
    case "boolean":
    case "undefined":
      return value;
    case "object":
      return value === null ? value : forRequestObject(value, depth);
    default:
      return NOT_CARRIED;
  }
};

const forRequestObject = (value: object, depth: number): unknown => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? NOT_CARRIED : value;
  if (value instanceof ObjectId || value instanceof Int32 || value instanceof Double || value instanceof Long || value instanceof Decimal128) return value;
  if (depth > 100) return NOT_CARRIED;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = forRequest(value[i], depth + 1);
      if (item === NOT_CARRIED) return NOT_CARRIED;
      if (item === value[i]) continue;
      out ??= value.slice();
      out[i] = item;
    }
    return out ?? value;
  }
  if (!isPlainObject(value)) return NOT_CARRIED;
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!plainKey(key)) return NOT_CARRIED;
    const item = forRequest(value[key], depth + 1);
    if (item === NOT_CARRIED) return NOT_CARRIED;
    if (item === value[key]) continue;
    out ??= { ...value };
    out[key] = item;
  }
  return out ?? value;
};

const plainKey = (key: string): boolean => !(key.startsWith("$") && EJSON_KEYS.has(key)) && !key.includes("\0") && key !== "__proto__" && wellFormed(key);

/**
 * Whether an answer reads back from BSON as from relaxed EJSON: numbers become JS numbers either
 * way, except an Int64 beyond 2^53, which relaxed EJSON rounds and BSON keeps as a Long.
 */
const answerCarried = (value: unknown, depth: number): boolean => {
  switch (typeof value) {
    case "string":
      return wellFormed(value);
    case "number":
    case "boolean":
    case "undefined":
      return true;
    case "object":
      break;
    default:
      return false;
  }
  if (value === null || value instanceof ObjectId || value instanceof Int32 || value instanceof Double || value instanceof Decimal128) return true;
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (value instanceof Long) return Number.isSafeInteger(value.toNumber());
  if (depth > 100) return false;
  if (Array.isArray(value)) return value.every((item) => answerCarried(item, depth + 1));
  if (!isPlainObject(value)) return false;
  for (const key in value) if (!plainKey(key) || !answerCarried(value[key], depth + 1)) return false;
  return true;
};

/** BSON refuses a document past its size limit; such a body goes as text too. */
const serialize = (value: Record<string, unknown>): Uint8Array | undefined => {
  try {
    return BSON.serialize(value);
  } catch {
    return undefined;
  }
};

/** A request body as BSON bytes, or undefined when it must go as EJSON text. */
export const requestBytes = (body: Record<string, unknown>): Uint8Array | undefined => {
  const carried = forRequest(body, 0);
  return carried === NOT_CARRIED ? undefined : serialize(carried as Record<string, unknown>);
};

/** A request body from its bytes, typed as canonical EJSON types it: every number keeps its BSON class. */
export const readRequestBytes = (bytes: Uint8Array): Record<string, unknown> => BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true });

/** An answer as BSON bytes, or undefined when it must go as EJSON text. */
export const answerBytes = (result: unknown): Uint8Array | undefined => (isPlainObject(result) && answerCarried(result, 0) ? serialize(result) : undefined);

/** An answer from its bytes, as relaxed EJSON reads it: numbers as JS numbers, other BSON types as their classes. */
export const readAnswerBytes = (bytes: Uint8Array): unknown => BSON.deserialize(bytes, { bsonRegExp: true });

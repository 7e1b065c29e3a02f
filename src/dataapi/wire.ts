import { Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { canonicalNumber, isPlainObject } from "./ejson";

/**
 * The Worker and its Durable Object exchange actions over RPC as structured-clone values rather
 * than EJSON text: the runtime copies a plain tree natively, where EJSON text cost a reviver call
 * per value on each side. BSON classes do not survive the copy, so they travel as the one-key
 * `$` objects of EJSON (`{$oid}`, `{$numberLong}`, …); a plain object with such a name is never
 * carried, so the tags cannot be mistaken. The values must come out exactly as EJSON text gave
 * them (canonical for requests, relaxed for answers); a tree holding anything else (rare BSON
 * types, EJSON's `$` names, unsafe integers) goes as EJSON text, which every caller still accepts.
 */

/** Object names EJSON reads as a type wrapper or a DBRef, and the tags below. */
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

/** EJSON refuses NUL in names, and a copied `__proto__` name could set a prototype. */
const plainKey = (key: string): boolean => !(key.charCodeAt(0) === 0x24 && EJSON_KEYS.has(key)) && key !== "__proto__" && !key.includes("\0");

const NOT_CARRIED = Symbol("not carried");

/** The tags `tagged` writes: the only `$` names of a tree that travels (the read cache's keys allow them). */
export const CARRIED_TAGS = ["$oid", "$numberDouble", "$numberLong", "$numberDecimal"] as const;

/** How a BSON class travels; `relaxed` for answers, whose numbers the reader gets as JS numbers. */
const tagged = (value: object, relaxed: boolean): unknown => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? NOT_CARRIED : value;
  if (value instanceof ObjectId) return { $oid: value.toHexString() };
  if (value instanceof Int32) return value.value;
  if (value instanceof Double) return relaxed ? value.value : { $numberDouble: value.value };
  if (value instanceof Long) return value.unsigned ? NOT_CARRIED : relaxed ? value.toNumber() : { $numberLong: value.toString() };
  if (value instanceof Decimal128) return { $numberDecimal: value.toString() };
  return NOT_CARRIED;
};

/** The tree as it travels, or NOT_CARRIED. */
const outbound = (value: unknown, relaxed: boolean, depth: number): unknown => {
  switch (typeof value) {
    case "number":
      // A whole number past 2^53 would be typed from its rounded value; EJSON writes its digits.
      return !Number.isInteger(value) || Number.isSafeInteger(value) ? value : NOT_CARRIED;
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return null;
    case "object":
      break;
    default:
      return NOT_CARRIED;
  }
  if (value === null) return null;
  if (depth > 100) return NOT_CARRIED;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = outbound(value[i], relaxed, depth + 1);
      if (item === NOT_CARRIED) return NOT_CARRIED;
      out[i] = item;
    }
    return out;
  }
  if (!isPlainObject(value)) return tagged(value, relaxed);
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!plainKey(key)) return NOT_CARRIED;
    const item = outbound(value[key], relaxed, depth + 1);
    if (item === NOT_CARRIED) return NOT_CARRIED;
    out[key] = item;
  }
  return out;
};

/** A tag back to its class. */
const untagged = (value: Record<string, unknown>): unknown => {
  if (typeof value.$oid === "string") return new ObjectId(value.$oid);
  if (typeof value.$numberDouble === "number") return new Double(value.$numberDouble);
  if (typeof value.$numberLong === "string") return Long.fromString(value.$numberLong);
  if (typeof value.$numberDecimal === "string") return Decimal128.fromString(value.$numberDecimal);
  return undefined;
};

/** The copied tree with its classes back, changed in place (the copy is the reader's own). */
const inbound = (value: unknown, canonical: boolean): unknown => {
  if (typeof value === "number") return canonical ? canonicalNumber(value) : value;
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = inbound(value[i], canonical);
    return value;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (key.charCodeAt(0) === 0x24 && EJSON_KEYS.has(key)) return untagged(object);
    const item = inbound(object[key], canonical);
    if (item !== object[key]) object[key] = item;
  }
  return object;
};

/** A request body as it travels over RPC, or undefined when it must go as EJSON text. */
export const requestValue = (body: Record<string, unknown>): Record<string, unknown> | undefined => {
  const out = outbound(body, false, 0);
  return out === NOT_CARRIED ? undefined : (out as Record<string, unknown>);
};

/** A request body as canonical EJSON types it: every number keeps a BSON class. */
export const readRequestValue = (value: Record<string, unknown>): Record<string, unknown> => inbound(value, true) as Record<string, unknown>;

/** An answer as it travels over RPC, or undefined when it must go as EJSON text. */
export const answerValue = (result: unknown): Record<string, unknown> | undefined => {
  if (!isPlainObject(result)) return undefined;
  const out = outbound(result, true, 0);
  return out === NOT_CARRIED ? undefined : (out as Record<string, unknown>);
};

/** An answer as relaxed EJSON reads it: numbers as JS numbers, other BSON types as their classes. */
export const readAnswerValue = (value: Record<string, unknown>): unknown => inbound(value, false);

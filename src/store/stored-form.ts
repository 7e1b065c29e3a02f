import { Decimal128, Double, EJSON, Int32, Long, ObjectId } from "bson";
import { canonicalNumber, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, isPlainObject } from "../dataapi/ejson";
import type { Doc } from "../dataapi/engine";
import type { PathTree } from "./direct";

/**
 * Reads a stored document as `EJSON.parse(text, {relaxed: false})` does, at a fraction of its
 * cost: a plain `JSON.parse`, then one walk that types the forms `encodeDocument` writes (bare
 * numbers and the ObjectId, Date and number wrappers). EJSON's reviver is called once per value
 * and dominated every read. A document holding any other `$` name, or a name the walk cannot
 * set in place, is left to EJSON itself.
 */
export const readStoredDocument = (text: string): Doc => {
  const parsed = JSON.parse(text) as unknown;
  const typed = typedValue(parsed);
  return (typed === UNREAD ? EJSON.parse(text, { relaxed: false }) : typed) as Doc;
};

const UNREAD = Symbol("left to EJSON");

/**
 * A stored document typed only along some paths (a find's filter, projection and sort, and
 * `_id`), or undefined when those need EJSON itself: parsing is a fraction of a read, and typing
 * every value of an organization's document (each member's ids and dates) was as much again, for
 * a read that looks at a few fields. Every value on a path is typed as `readStoredDocument` types
 * it, so a filter or projection that reads only those paths sees what it would in the whole
 * document; the rest is left as parsed, never to be handed out.
 */
export const readStoredPaths = (text: string, paths: PathTree): Doc | undefined => {
  const parsed = JSON.parse(text) as Wrapper;
  return typedAlong(parsed, paths) ? parsed : undefined;
};

/** Types an object's values along the tree, in place; false when one needs EJSON. */
const typedAlong = (object: Wrapper, tree: PathTree): boolean => {
  for (const [name, below] of tree) {
    if (!Object.hasOwn(object, name)) continue;
    const value = object[name];
    // Past a value that is not a plain sub-document (a wrapper, an array, a scalar) the whole of it is typed, as the full read types it.
    if (below !== true && typeof value === "object" && value !== null && !Array.isArray(value) && !hasWrapperName(value as Wrapper)) {
      if (!typedAlong(value as Wrapper, below)) return false;
      continue;
    }
    const typed = typedValue(value);
    if (typed === UNREAD) return false;
    if (typed !== value) object[name] = typed;
  }
  return true;
};

const hasWrapperName = (object: Wrapper): boolean => {
  for (const key in object) if (key.charCodeAt(0) === 0x24 /* $ */) return true;
  return false;
};

/**
 * The stored form of a document (see compactNumbers), written as `EJSON.stringify` with that
 * replacer writes it, without a replacer call per value: one walk builds the JSON tree, then one
 * plain `JSON.stringify`. A document holding another type or a `$` name is left to EJSON.
 */
export const writeStoredDocument = (doc: Doc): string => {
  const tree = storedValue(doc, 0);
  return tree === UNREAD
    ? EJSON.stringify(doc, compactNumbers as (key: string, value: unknown) => unknown, undefined, { relaxed: false })
    : JSON.stringify(tree);
};

type Wrapper = Record<string, unknown>;
/** The classes' EJSON readers: public at run time, left out of bson's declarations. */
type Reader = { fromExtendedJSON(doc: Wrapper, options: { relaxed: boolean }): unknown };
const CANONICAL = { relaxed: false };

/**
 * Canonical EJSON, with the numbers whose bare JSON form reads back as the same type written
 * bare: an integer in the Int32 range (Int32), a Long beyond it but within 2^53 (Int64), and a
 * finite double with a fraction (Double). Whole doubles, -0, NaN, Infinity, other Longs and
 * Decimal128 keep their wrappers. Documents stored in relaxed EJSON before read back the same way.
 */
export const compactNumbers = (key: string, value: unknown): unknown => {
  if (!isPlainObject(value) || key === "$date") return value;
  if (typeof value.$numberInt === "string") return Number(value.$numberInt);
  if (typeof value.$numberLong === "string") {
    const n = Number(value.$numberLong);
    return Number.isSafeInteger(n) && (n < INT32_MIN || n > INT32_MAX) ? n : value;
  }
  if (typeof value.$numberDouble === "string") {
    const n = Number(value.$numberDouble);
    return Number.isFinite(n) && !Number.isInteger(n) ? n : value;
  }
  return value;
};

/** The classes' canonical EJSON writers: public at run time, left out of bson's declarations. */
type Writable = { toExtendedJSON(options: { relaxed: boolean }): Wrapper };

/** A JS number as canonical EJSON wraps it, compacted. */
const storedNumber = (n: number): unknown => {
  if (Number.isInteger(n) && !Object.is(n, -0)) {
    if (n >= INT32_MIN && n <= INT32_MAX) return n;
    if (n >= INT64_MIN && n <= INT64_MAX) return compactNumbers("", { $numberLong: n.toString() });
  }
  return compactNumbers("", { $numberDouble: Object.is(n, -0) ? "-0.0" : n.toString() });
};

const storedValue = (value: unknown, depth: number): unknown => {
  switch (typeof value) {
    case "number":
      return storedNumber(value);
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return null;
    case "object":
      break;
    default:
      return UNREAD;
  }
  if (value === null) return null;
  if (value instanceof Date) return { $date: { $numberLong: value.getTime().toString() } };
  if (value instanceof ObjectId || value instanceof Int32 || value instanceof Long || value instanceof Double || value instanceof Decimal128) {
    return compactNumbers("", (value as unknown as Writable).toExtendedJSON(CANONICAL));
  }
  if (depth > 200) return UNREAD;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = storedValue(value[i], depth + 1);
      if (item === UNREAD) return UNREAD;
      out[i] = item;
    }
    return out;
  }
  if (!isPlainObject(value)) return UNREAD;
  const out: Wrapper = {};
  for (const key in value) {
    if (key.charCodeAt(0) === 0x24 /* $ */ || key === "__proto__") return UNREAD;
    const item = storedValue(value[key], depth + 1);
    if (item === UNREAD) return UNREAD;
    out[key] = item;
  }
  return out;
};

const WRAPPERS: Record<string, Reader> = {
  $numberInt: Int32 as unknown as Reader,
  $numberLong: Long as unknown as Reader,
  $numberDouble: Double as unknown as Reader,
  $numberDecimal: Decimal128 as unknown as Reader,
};

/** One `$` wrapper of the stored forms, or UNREAD. */
const typedWrapper = (value: Wrapper, key: string): unknown => {
  const inner = value[key];
  if (key === "$oid") return typeof inner === "string" ? new ObjectId(inner) : UNREAD;
  const reader = WRAPPERS[key];
  if (reader) return typeof inner === "string" ? reader.fromExtendedJSON(value, CANONICAL) : UNREAD;
  if (key !== "$date") return UNREAD;
  // Canonical dates are {"$numberLong"} milliseconds; relaxed ones, stored before, ISO strings.
  const at =
    typeof inner === "string"
      ? Date.parse(inner)
      : typeof inner === "object" && inner !== null && onlyKey(inner as Wrapper) === "$numberLong"
        ? (millis((inner as Wrapper).$numberLong) ?? typedWrapper(inner as Wrapper, "$numberLong"))
        : UNREAD;
  if (at === UNREAD) return UNREAD;
  const date = new Date();
  date.setTime(typeof at === "number" ? at : (at as Long).toNumber());
  return date;
};

/** A date's milliseconds written as a plain integer, read without a Long (every date a record holds); undefined for any other form. */
const millis = (digits: unknown): number | undefined => {
  const n = typeof digits === "string" ? Number(digits) : Number.NaN;
  // "NaN" and digits past 2^53 are Long's to refuse or read, as EJSON does.
  return Number.isSafeInteger(n) && String(n) === digits ? n : undefined;
};

const onlyKey = (value: Wrapper): string | undefined => {
  let only: string | undefined;
  for (const key in value) {
    if (only !== undefined) return undefined;
    only = key;
  }
  return only;
};

/** The value typed in place (parsed JSON is ours to change), or UNREAD. */
const typedValue = (value: unknown): unknown => {
  if (typeof value === "number") return canonicalNumber(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = typedValue(value[i]);
      if (item === UNREAD) return UNREAD;
      value[i] = item;
    }
    return value;
  }
  const object = value as Wrapper;
  for (const key in object) {
    if (key.charCodeAt(0) === 0x24 /* $ */) return onlyKey(object) === key ? typedWrapper(object, key) : UNREAD;
    // EJSON refuses NUL in names; assigning `__proto__` would set the prototype instead.
    if (key === "__proto__" || key.includes("\0")) return UNREAD;
    const item = typedValue(object[key]);
    if (item === UNREAD) return UNREAD;
    if (item !== object[key]) object[key] = item;
  }
  return object;
};

import { Decimal128, ObjectId } from "bson";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc } from "../dataapi/engine";
import { isBsonNumber, numberOf } from "./bson-numbers";

/**
 * Filters and projections the store answers without mingo. mingo tests a copy of each document
 * with its numbers made plain (`forMingo`), a walk of the whole document: for an organization's,
 * with every member in it, that walk was most of a guarded read. The service's own filters are
 * a few conditions on known paths (`_id`, a member's token version, `status`, `suspended`), so
 * those shapes are decided here on the stored document itself, and whatever this does not know
 * for certain (an array on the path, a value of another kind, another operator) is left to mingo.
 */

/** An answer: true or false when decided here, undefined for mingo to decide. */
type Answer = boolean | undefined;
type Condition = (value: unknown) => Answer;

const NOT_PLAIN = Symbol("not plain");

/** True when every answer is, false as soon as one is not, undefined when none is false and one is undecided. */
const all = <T>(parts: T[], answer: (part: T) => Answer): Answer => {
  let decided: Answer = true;
  for (const part of parts) {
    const one = answer(part);
    if (one === false) return false;
    if (one === undefined) decided = undefined;
  }
  return decided;
};

/** The value at a dotted path through plain objects only (missing: undefined); NOT_PLAIN at or past anything else. */
const valueAt = (doc: Doc, path: string[]): unknown => {
  let value: unknown = doc;
  for (const name of path) {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) return NOT_PLAIN;
    value = Object.hasOwn(value, name) ? value[name] : undefined;
  }
  return Array.isArray(value) ? NOT_PLAIN : value;
};

/** A number compared by value (Int32 3 equals Double 3.0); undefined where the nearest double could mislead (Decimal128, past 2^53). */
const numeric = (value: unknown): number | undefined => {
  const n = typeof value === "number" ? value : isBsonNumber(value) && !(value instanceof Decimal128) ? numberOf(value) : undefined;
  return n !== undefined && Number.isSafeInteger(Math.trunc(n)) ? n : undefined;
};

/** A date or a number as its range operators compare it (a date's time, 0 and invalid ones left to mingo). */
const ordinal = (value: unknown): number | undefined => (value instanceof Date ? value.getTime() || undefined : numeric(value));

/** Equality with a string, boolean, ObjectId, date or number; undefined (mingo's) against a value of another kind. */
const equalTo = (wanted: unknown): Condition | undefined => {
  if (typeof wanted === "string" || typeof wanted === "boolean") return (value) => (typeof value === typeof wanted ? value === wanted : undefined);
  if (wanted instanceof ObjectId) return (value) => (value instanceof ObjectId ? value.equals(wanted) : undefined);
  if (wanted instanceof Date && ordinal(wanted) !== undefined)
    return (value) => (value instanceof Date && ordinal(value) !== undefined ? ordinal(value) === ordinal(wanted) : undefined);
  const n = numeric(wanted);
  return n === undefined ? undefined : (value) => (numeric(value) === undefined ? undefined : numeric(value) === n);
};

const RANGES: Record<string, (a: number, b: number) => boolean> = {
  $gt: (a, b) => a > b,
  $gte: (a, b) => a >= b,
  $lt: (a, b) => a < b,
  $lte: (a, b) => a <= b,
};

/** One operator: `$ne` and `$in` of the values above, the ranges on dates and numbers (each against its own kind). */
const operator = (name: string, wanted: unknown): Condition | undefined => {
  // A name without `$` makes the object an embedded document to equal (`{a: {b: 1}}`): mingo's.
  if (!name.startsWith("$")) return undefined;
  const equal = name === "$ne" ? equalTo(wanted) : undefined;
  // A missing field equals nothing: `$ne` matches it.
  if (equal) return (value) => (value === undefined ? true : equal(value) === undefined ? undefined : !equal(value));
  if (name === "$in" && Array.isArray(wanted) && wanted.length <= 64) {
    const each = wanted.map(equalTo);
    if (each.includes(undefined)) return undefined;
    return (value) => negate(all(each as Condition[], (one) => negate(one(value))));
  }
  const compare = Object.hasOwn(RANGES, name) ? RANGES[name] : undefined;
  const bound = ordinal(wanted);
  if (!compare || bound === undefined) return undefined;
  const kind = wanted instanceof Date;
  return (value) => {
    const at = value instanceof Date === kind ? ordinal(value) : undefined;
    return at === undefined ? undefined : compare(at, bound);
  };
};

const negate = (answer: Answer): Answer => (answer === undefined ? undefined : !answer);

/** A field's condition: a value (equality), or an object of operators that must all hold. */
const condition = (wanted: unknown): Condition | undefined => {
  if (!isPlainObject(wanted)) return equalTo(wanted);
  const parts = Object.entries(wanted).map(([name, operand]) => operator(name, operand));
  if (parts.length === 0 || parts.includes(undefined)) return undefined;
  return (value) => all(parts as Condition[], (part) => part(value));
};

/** A name of a path decided here: not empty, `$`, numeric (an array's element) or `__proto__`. */
const plainPath = (path: string[]): boolean => !path.some((name) => /^(\$.*|\d*|__proto__)$/.test(name));

/**
 * The direct test of a filter, or undefined when its shape is not one decided here: every field a
 * path of plain names (`plainPath`) with a condition above.
 */
export const directTest = (filter: Doc): ((doc: Doc) => Answer) | undefined => {
  const fields: { path: string[]; test: Condition }[] = [];
  for (const [key, wanted] of Object.entries(filter)) {
    const path = key.split(".");
    const test = condition(wanted);
    if (!test || !plainPath(path)) return undefined;
    fields.push({ path, test });
  }
  return (doc) =>
    all(fields, ({ path, test }) => {
      const value = valueAt(doc, path);
      return value === NOT_PLAIN ? undefined : test(value);
    });
};

/** Dotted paths as a tree of names, `true` where one ends and takes the whole value below. */
export type PathTree = Map<string, PathTree | true>;

/** The tree of `paths`: a path that is another's prefix takes its place (`a` over `a.b`), and `collided` says one did. */
export const pathTree = (paths: Iterable<string>): { tree: PathTree; collided: boolean } => {
  const tree: PathTree = new Map();
  let collided = false;
  for (const path of paths) {
    // Every find builds this tree, most often of top-level names: those need no split.
    if (!path.includes(".")) {
      const there = tree.get(path);
      if (there) collided = true;
      if (there !== true) tree.set(path, true);
      continue;
    }
    const names = path.split(".");
    const last = names.length - 1;
    let level = tree;
    for (let i = 0; i <= last; i++) {
      const name = names[i] as string;
      const there = level.get(name);
      if (there === true || (i === last && there)) collided = true;
      if (there === true) break;
      if (i === last) level.set(name, true);
      else {
        const next: PathTree = there ?? new Map();
        level.set(name, next);
        level = next;
      }
    }
  }
  return { tree, collided };
};

/**
 * The included fields of a document, in its order: an embedded document is narrowed to the
 * fields named under it, and a value that is not one is dropped, as MongoDB does. NOT_PLAIN for
 * an array on a path, whose elements MongoDB narrows one by one: that is left to mingo.
 */
const includedOf = (value: Doc, tree: PathTree): Doc | typeof NOT_PLAIN => {
  const out: Doc = {};
  for (const key of Object.keys(value)) {
    const wanted = tree.get(key);
    if (wanted === undefined) continue;
    const field = value[key];
    if (wanted === true) out[key] = field;
    else if (Array.isArray(field)) return NOT_PLAIN;
    else if (isPlainObject(field)) {
      const inner = includedOf(field, wanted);
      if (inner === NOT_PLAIN) return NOT_PLAIN;
      out[key] = inner;
    }
  }
  return out;
};

/**
 * The projection of fields by inclusion (`{name: 1}`, `{"members.<id>": 1}`; `_id` kept unless
 * `_id: 0`), as MongoDB returns it (`_id` first, then the document's order); undefined for any
 * other projection. Its answer is undefined for a document with an array on an included path.
 */
export const directProjection = (projection: Doc): ((doc: Doc) => Doc | undefined) | undefined => {
  const names = Object.keys(projection).filter((name) => name !== "_id");
  const id = projection._id;
  const keepId = id === undefined || id === 1 || id === true;
  // `{_id: 0}` alone excludes, keeping every other field: mingo's.
  if (!(keepId || id === 0 || id === false) || (names.length === 0 && !keepId)) return undefined;
  for (const name of names) {
    if (!(projection[name] === 1 || projection[name] === true)) return undefined;
    const path = name.split(".");
    if (!plainPath(path) || path.includes("_id")) return undefined;
  }
  // Two paths where one is the other's prefix (`a` beside `a.b`) mingo refuses.
  const { tree, collided } = pathTree(names);
  if (collided) return undefined;
  return (doc) => {
    const included = includedOf(doc, tree);
    if (included === NOT_PLAIN) return undefined;
    return keepId && Object.hasOwn(doc, "_id") ? { _id: doc._id, ...included } : included;
  };
};

import { isPlainObject } from "../dataapi/ejson";
import type { Doc, FindSpec, Namespace } from "../dataapi/engine";

/**
 * The answers of recent reads, by what each asked, inside the Durable Object that owns the data.
 * The object is the only writer of its SQLite file and runs one action at a time, so an answer
 * stays right until the object's next write: every write transaction empties the cache (see
 * `SqliteEngine`), and nothing outside the object can change what it read. A read answered here
 * skips the SQLite query and the typing of its rows; the hottest read, an organization by name,
 * is asked far more often than organizations change.
 */
export interface ReadCacheBounds {
  /** Answers kept at most; the least recently used goes first. */
  entries: number;
  /** Stored text of the documents kept, all answers together (UTF-16 code units, as SQLite gave them). */
  textLength: number;
  /** An answer longer than this is never kept: a cache of a few pages, not of a collection. */
  answerTextLength: number;
}

export const READ_CACHE_BOUNDS: ReadCacheBounds = { entries: 512, textLength: 4 * 1024 * 1024, answerTextLength: 64 * 1024 };

/** A key longer than this (a filter listing thousands of ids) is not worth keeping. */
const MAX_KEY_LENGTH = 2048;

interface Entry {
  docs: readonly Doc[];
  textLength: number;
}

export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private textLength = 0;

  constructor(private readonly bounds: ReadCacheBounds = READ_CACHE_BOUNDS) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): readonly Doc[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: moved to the end, the entry is the most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.docs;
  }

  /** Keeps `docs` (frozen: every later reader shares them) when they fit the bounds. */
  set(key: string, docs: Doc[], textLength: number): void {
    const length = textLength + key.length;
    if (length > this.bounds.answerTextLength || this.bounds.entries < 1) return;
    this.forget(key);
    while (this.entries.size >= this.bounds.entries || (this.entries.size > 0 && this.textLength + length > this.bounds.textLength)) {
      const oldest = this.entries.keys().next().value as string;
      this.forget(oldest);
    }
    this.entries.set(key, { docs: deepFreeze(docs), textLength: length });
    this.textLength += length;
  }

  clear(): void {
    this.entries.clear();
    this.textLength = 0;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.textLength -= entry.textLength;
  }
}

/**
 * Plain objects and arrays frozen through, so a reader that changed a shared answer would fail
 * loudly instead of changing what the next reader gets. BSON values are left as they are: they
 * keep caches of their own (an ObjectId its hex text), and no reader changes them.
 */
const deepFreeze = <T>(value: T): T => {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else if (isPlainObject(value)) for (const key in value) deepFreeze((value as Doc)[key]);
  else return value;
  return Object.freeze(value);
};

/**
 * The operators a cached read may use: those whose answer depends on the stored documents alone.
 * Anything else, such as `$expr` (which can read `$$NOW`) or `$sampleRate` and `$rand` (random),
 * could answer differently with no write between, so a read using it is not cached.
 */
const DETERMINISTIC_OPERATORS = new Set([
  "$eq",
  "$ne",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
  "$in",
  "$nin",
  "$and",
  "$or",
  "$nor",
  "$not",
  "$exists",
  "$type",
  "$all",
  "$elemMatch",
  "$size",
  "$mod",
  "$regex",
  "$options",
  "$slice",
]);

/**
 * What a read asked, as text that two reads share only when they ask the same thing; undefined
 * when the read holds a value this key does not tell apart (a regular expression, binary data,
 * a Decimal128, an invalid date, -0 or NaN), an operator outside DETERMINISTIC_OPERATORS or a
 * `$$` variable, and such a read is not cached. Key order counts, as it does in MongoDB's
 * documents: the same filter written in another order is another key.
 */
export const readKey = (ns: Namespace, spec: FindSpec): string | undefined => {
  const parts = [spec.filter, spec.projection ?? null, spec.sort ?? null, spec.limit ?? null, spec.skip ?? null];
  const key = keyOf(parts, 0);
  if (key === undefined) return undefined;
  const whole = `${JSON.stringify(ns.database)}${JSON.stringify(ns.collection)}${key}`;
  return whole.length > MAX_KEY_LENGTH ? undefined : whole;
};

const keyOf = (value: unknown, depth: number): string | undefined => {
  switch (typeof value) {
    case "string":
      return value.startsWith("$$") ? undefined : JSON.stringify(value);
    case "boolean":
      return value ? "t" : "f";
    case "number":
      return plainNumber(value) ? `n${value}` : undefined;
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return "z";
  if (depth > 32) return undefined;
  if (Array.isArray(value)) {
    let out = "[";
    for (const item of value) {
      const key = keyOf(item, depth + 1);
      if (key === undefined) return undefined;
      out += `${key},`;
    }
    return `${out}]`;
  }
  if (isPlainObject(value)) {
    let out = "{";
    for (const name in value) {
      if (name.charCodeAt(0) === 0x24 && !DETERMINISTIC_OPERATORS.has(name)) return undefined;
      const key = keyOf(value[name], depth + 1);
      if (key === undefined) return undefined;
      out += `${JSON.stringify(name)}:${key},`;
    }
    return `${out}}`;
  }
  return bsonKey(value);
};

/** A finite number other than -0: the values whose decimal text tells them apart. */
const plainNumber = (n: number): boolean => Number.isFinite(n) && !Object.is(n, -0);

/** The BSON values a read's filter commonly holds, each with a prefix of its own type. */
const bsonKey = (value: object): string | undefined => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : `D${value.getTime()}`;
  const typed = value as { _bsontype?: unknown; value?: unknown; unsigned?: unknown; toString(): string; toHexString?: () => string };
  switch (typed._bsontype) {
    case "ObjectId":
      return `O${typed.toHexString?.()}`;
    case "Int32":
      return `I${typed.value}`;
    case "Double":
      return typeof typed.value === "number" && plainNumber(typed.value) ? `F${typed.value}` : undefined;
    case "Long":
      return `L${typed.unsigned ? "u" : ""}${typed.toString()}`;
    default:
      return undefined;
  }
};

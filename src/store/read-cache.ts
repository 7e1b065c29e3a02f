import { isPlainObject } from "../dataapi/ejson";
import type { Doc } from "../dataapi/engine";
import { CARRIED_TAGS } from "../dataapi/wire";

/**
 * The answers of the Worker's recent reads, by what each asked, inside the Durable Object that
 * owns the data. The object is the only writer of its SQLite file and runs one action at a time,
 * and its engine counts every write transaction (`SqliteEngine.writes`, before and after each,
 * committed or rolled back): an answer read at one count is current until the count moves, and
 * nothing outside the object can change what it read. A read answered here skips the action's
 * checks, the SQLite query and the typing and copying of its rows; the hottest read, an
 * organization by name, is asked far more often than organizations change.
 */
export interface ReadCacheBounds {
  /** Answers kept at most; the least recently used goes first. */
  entries: number;
  /** Stored text the answers were read from, all together (UTF-16 code units, as SQLite gave them). */
  textLength: number;
  /**
   * An answer longer than this is never kept: a cache of a few pages, not of a collection. Its
   * length is the stored text it was read from, which it cannot exceed; a read that took more text
   * than this (a few fields projected from a large document) is measured by the answer itself.
   */
  answerTextLength: number;
}

export const READ_CACHE_BOUNDS: ReadCacheBounds = { entries: 512, textLength: 4 * 1024 * 1024, answerTextLength: 64 * 1024 };

/** The actions whose answers depend on the stored documents and what they ask alone. */
const READ_ACTIONS = new Set(["findOne", "find", "findFenced"]);

/** A key longer than this (a filter listing thousands of ids) is not worth keeping. */
const MAX_KEY_LENGTH = 2048;

interface Entry<T> {
  value: T;
  length: number;
}

export class ReadCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private textLength = 0;
  /** The engine's count of writes the answers kept were read at. */
  private writes = -1;

  constructor(private readonly bounds: ReadCacheBounds = READ_CACHE_BOUNDS) {}

  get size(): number {
    return this.entries.size;
  }

  /** The answer kept for `key`, if it was read at the engine's current count of writes. */
  get(key: string, writes: number): T | undefined {
    this.at(writes);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: moved to the end, the entry is the most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` (frozen: every later reader shares it), read at `writes` from `textLength` of stored text, when it fits the bounds. */
  set(key: string, value: T, textLength: number, writes: number): void {
    this.at(writes);
    const most = this.bounds.answerTextLength - key.length;
    const length = key.length + (textLength <= most ? textLength : most - roomLeft(value, most));
    if (length > this.bounds.answerTextLength || this.bounds.entries < 1) return;
    this.forget(key);
    while (this.entries.size >= this.bounds.entries || (this.entries.size > 0 && this.textLength + length > this.bounds.textLength)) {
      this.forget(this.entries.keys().next().value as string);
    }
    this.entries.set(key, { value: deepFreeze(value), length });
    this.textLength += length;
  }

  /** Everything kept was read before a write that came since. */
  private at(writes: number): void {
    if (writes === this.writes) return;
    this.entries.clear();
    this.textLength = 0;
    this.writes = writes;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.textLength -= entry.length;
  }
}

/**
 * `room` less about what `value` would take as JSON text (a number, a date or anything else not
 * text counted at the most its text can take), and negative as soon as the value is larger,
 * without reading on.
 */
const roomLeft = (value: unknown, room: number): number => {
  if (room < 0) return room;
  if (typeof value === "string") return room - value.length - 3;
  if (typeof value !== "object" || value === null || value instanceof Date) return room - 27;
  let left = room - 2;
  for (const [name, inner] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    left = roomLeft(inner, left - String(name).length - 4);
    if (left < 0) break;
  }
  return left;
};

/**
 * Plain objects and arrays frozen through, so code that changed a shared answer would fail loudly
 * instead of changing what the next reader gets. A Date is left as it is: nothing changes one.
 */
const deepFreeze = <T>(value: T): T => {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else if (isPlainObject(value)) for (const key in value) deepFreeze((value as Doc)[key]);
  else return value;
  return Object.freeze(value);
};

/**
 * The names a cached read's objects may start with a `$`: operators whose answer depends on the
 * stored documents alone, and the tags the Worker's values travel in (src/dataapi/wire.ts).
 * Anything else, such as `$expr` (which can read `$$NOW`) or `$sampleRate` and `$rand` (random),
 * could answer differently with no write between, so a read using it is not cached.
 */
const DETERMINISTIC = new Set([
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
  ...CARRIED_TAGS,
]);

/**
 * What a read action asked, as the Worker sends it over RPC (a structured-clone value), in text
 * that two reads share only when they ask the same thing. Undefined, and the read not cached, for
 * any other action, a read with a `deadline` (checked on every call), or one holding a value this
 * key does not tell apart (-0, NaN, an invalid date), a name starting with `$` outside
 * DETERMINISTIC or a `$$` variable. Key order counts, as it does in MongoDB's documents: the same
 * filter written in another order is another key.
 */
export const readKey = (action: string, body: Record<string, unknown>): string | undefined => {
  if (!READ_ACTIONS.has(action) || "deadline" in body) return undefined;
  const kind = keyable(body, 0);
  if (kind === NOT_KEYABLE) return undefined;
  // One native pass once the tree is known to be plain JSON; dates, which JSON writes as strings,
  // as `{"$date": ms}`, a name no keyable tree holds.
  const key = `${action}${JSON.stringify(body, kind === DATED ? withDates : undefined)}`;
  return key.length > MAX_KEY_LENGTH ? undefined : key;
};

const NOT_KEYABLE = 0;
const PLAIN = 1;
const DATED = 2;

/** Whether JSON text tells `value` apart from every other keyable tree (with dates marked, DATED), without building anything. */
const keyable = (value: unknown, depth: number): typeof NOT_KEYABLE | typeof PLAIN | typeof DATED => {
  switch (typeof value) {
    case "string":
      return value.startsWith("$$") ? NOT_KEYABLE : PLAIN;
    case "boolean":
      return PLAIN;
    case "number":
      // JSON's decimal text tells apart every finite number but -0.
      return Number.isFinite(value) && !Object.is(value, -0) ? PLAIN : NOT_KEYABLE;
    case "object":
      break;
    default:
      return NOT_KEYABLE;
  }
  if (value === null) return PLAIN;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? NOT_KEYABLE : DATED;
  if (depth > 32) return NOT_KEYABLE;
  let kind: typeof PLAIN | typeof DATED = PLAIN;
  if (Array.isArray(value)) {
    // Indexed, so a hole is read as the undefined it is.
    for (let i = 0; i < value.length; i++) {
      const inner = keyable(value[i], depth + 1);
      if (inner === NOT_KEYABLE) return NOT_KEYABLE;
      if (inner === DATED) kind = DATED;
    }
    return kind;
  }
  if (!isPlainObject(value)) return NOT_KEYABLE;
  for (const name in value) {
    if (name.charCodeAt(0) === 0x24 && !DETERMINISTIC.has(name)) return NOT_KEYABLE;
    const inner = keyable(value[name], depth + 1);
    if (inner === NOT_KEYABLE) return NOT_KEYABLE;
    if (inner === DATED) kind = DATED;
  }
  return kind;
};

/** JSON.stringify's replacer: a date as its time (the replacer sees the text `toJSON` made of it, `this[name]` the date). */
function withDates(this: Record<string, unknown>, name: string, value: unknown): unknown {
  const raw = this[name];
  return raw instanceof Date ? { $date: raw.getTime() } : value;
}

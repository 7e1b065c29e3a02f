import { Decimal128, Double, Int32, Long } from "bson";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc } from "../dataapi/engine";
import { DataApiError } from "../dataapi/errors";
import { type BsonNumber, inferred, integerResult, isBsonNumber, numberOf } from "./bson-numbers";

/**
 * mingo computes on JS numbers (see `forMingo`); these functions give the numbers in its results
 * back their BSON types, so a document's Int32, Int64, Double and Decimal128 values survive
 * updates, projections and pipelines as MongoDB keeps them.
 */

/** Where a number in a result may have come from. */
export interface TypeSources {
  /** The document before the update, or the stored document a projection or stage read. */
  before?: unknown;
  /** The update or pipeline, whose own values carry the types the caller sent. */
  update?: Doc | Doc[];
}

type Arithmetic = { op: "$inc" | "$mul"; operand: unknown };

/** A key that tells -0 from 0, unlike Map's own comparison. */
const numberKey = (n: number): string => (Object.is(n, -0) ? "-0" : String(n));

const collectNumbers = (value: unknown, into: Map<string, BsonNumber>, depth = 0): void => {
  if (isBsonNumber(value)) {
    const key = numberKey(numberOf(value));
    if (!into.has(key)) into.set(key, value);
  } else if (depth <= 200 && (Array.isArray(value) || isPlainObject(value))) {
    for (const v of Object.values(value)) collectNumbers(v, into, depth + 1);
  }
};

const valueAt = (value: unknown, path: string[]): unknown => {
  let current = value;
  for (const part of path) {
    if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
    else if (isPlainObject(current)) current = current[part];
    else return undefined;
  }
  return current;
};

const isInteger = (v: unknown): v is Int32 | Long => v instanceof Int32 || v instanceof Long;

/**
 * `$inc` and `$mul` as MongoDB types them: integers stay exact and as narrow as their operands
 * (Int32 grows into Int64 on overflow; Int64 overflow is refused), a Double operand makes a
 * Double and a Decimal128 one a Decimal128. `computed` is mingo's (double) result.
 */
const arithmetic = ({ op, operand }: Arithmetic, current: unknown, computed: number): BsonNumber => {
  const start = isBsonNumber(current) ? current : op === "$inc" ? new Int32(0) : undefined;
  // $mul on a missing field writes a zero of the operand's type.
  if (start === undefined) return isBsonNumber(operand) ? retypeLike(operand, 0) : inferred(computed);
  if (current instanceof Decimal128 || operand instanceof Decimal128) return Decimal128.fromString(String(computed));
  if (isInteger(start) && isInteger(operand)) {
    const a = BigInt(start.toString());
    const b = BigInt(operand.toString());
    const result = integerResult(op === "$inc" ? a + b : a * b, start instanceof Long || operand instanceof Long);
    if (!result) throw new DataApiError("InvalidParameter", `${op} would overflow a 64-bit integer`);
    return result;
  }
  return new Double(computed);
};

/** A number in the same BSON type as `like`. */
const retypeLike = (like: BsonNumber, n: number): BsonNumber => {
  if (like instanceof Int32) return new Int32(n);
  if (like instanceof Long) return Long.fromNumber(n);
  if (like instanceof Decimal128) return Decimal128.fromString(String(n));
  return new Double(n);
};

/** The paths an update writes with its own values ($set and kin) and by arithmetic ($inc, $mul). */
const updatePaths = (update: TypeSources["update"]) => {
  const literals = new Map<string, unknown>();
  const arithmetics = new Map<string, Arithmetic>();
  if (!update || Array.isArray(update)) return { literals, arithmetics };
  for (const op of ["$set", "$setOnInsert", "$min", "$max"]) {
    const fields = update[op];
    if (isPlainObject(fields)) for (const [path, value] of Object.entries(fields)) literals.set(path, value);
  }
  for (const op of ["$inc", "$mul"] as const) {
    const fields = update[op];
    if (isPlainObject(fields)) for (const [path, operand] of Object.entries(fields)) arithmetics.set(path, { op, operand });
  }
  return { literals, arithmetics };
};

/** The caller's value for a path, when the update set that path or one of its parents. */
const literalAt = (literals: Map<string, unknown>, path: string[]): unknown => {
  for (let i = path.length; i > 0; i--) {
    const written = literals.get(path.slice(0, i).join("."));
    if (written !== undefined) return valueAt(written, path.slice(i));
  }
  return undefined;
};

/**
 * Gives every number in `out` (a result mingo computed from `sources`) a BSON type, trying in
 * order: the update's arithmetic on that path; the caller's value written to that path; the
 * value the path held before; any equal number among the update's, then the document's values
 * (an element moved by `$rename`, `$pull` or `$slice`); and last the type a driver would infer.
 */
export const restoreTypes = <T>(out: T, sources: TypeSources): T => {
  const { literals, arithmetics } = updatePaths(sources.update);
  // Collected only when a number is found nowhere else: most results never need them.
  let updateNumbers: Map<string, BsonNumber> | undefined;
  let beforeNumbers: Map<string, BsonNumber> | undefined;
  const numbersOf = (value: unknown): Map<string, BsonNumber> => {
    const found = new Map<string, BsonNumber>();
    collectNumbers(value, found);
    return found;
  };
  const same = (candidate: unknown, n: number): candidate is BsonNumber => isBsonNumber(candidate) && Object.is(numberOf(candidate), n);

  const typed = (n: number, path: string[]): BsonNumber => {
    const dotted = path.join(".");
    const arith = arithmetics.get(dotted);
    if (arith) return arithmetic(arith, valueAt(sources.before, path), n);
    const literal = literalAt(literals, path);
    if (same(literal, n)) return literal;
    const previous = valueAt(sources.before, path);
    if (same(previous, n)) return previous;
    updateNumbers ??= numbersOf(sources.update);
    const fromUpdate = updateNumbers.get(numberKey(n));
    if (fromUpdate) return fromUpdate;
    beforeNumbers ??= numbersOf(sources.before);
    return beforeNumbers.get(numberKey(n)) ?? inferred(n);
  };

  const walk = (value: unknown, path: string[]): unknown => {
    if (typeof value === "number") return typed(value, path);
    if (path.length > 200) return value;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)]));
    if (!isPlainObject(value)) return value;
    const result: Doc = {};
    for (const [k, v] of Object.entries(value)) result[k] = walk(v, [...path, k]);
    return result;
  };
  return walk(out, []) as T;
};

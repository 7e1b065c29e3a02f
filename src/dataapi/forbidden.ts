import { Code } from "bson";
import { isPlainObject } from "./ejson";
import { DataApiError } from "./errors";

/** Operators that would run caller-supplied code on the server. */
const CODE_OPERATORS = new Set(["$where", "$function", "$accumulator"]);

/**
 * Aggregation stages that write to, or read from, a collection other than the one the request
 * names: they would step around a key's database and collection restrictions.
 */
const CROSS_COLLECTION_STAGES = new Set(["$out", "$merge", "$lookup", "$unionWith", "$graphLookup"]);

/** The first key of `keys` used anywhere in `value` (`$facet` and friends nest whole pipelines). */
const findKey = (value: unknown, keys: Set<string>, depth = 0): string | undefined => {
  if (depth > 100) throw new DataApiError("InvalidParameter", "document nested too deeply");
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findKey(item, keys, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (keys.has(key)) return key;
    const found = findKey(item, keys, depth + 1);
    if (found) return found;
  }
  return undefined;
};

/** Refuses any value that mentions a code-running operator at any depth. */
export const assertNoCodeOperators = (value: unknown): void => {
  const key = findKey(value, CODE_OPERATORS);
  if (key) throw new DataApiError("ForbiddenOperator", `operator ${key} is not allowed`);
};

/**
 * The aggregation stages a key may use: each reads and reshapes the documents of the named
 * collection only. Anything else is refused, known or not: stages such as `$collStats`,
 * `$indexStats`, `$currentOp` or `$planCacheStats` report on the server (host names, other
 * operations, query plans) to a key that was only meant to reach one collection.
 */
export const ALLOWED_STAGES: ReadonlySet<string> = new Set([
  "$match",
  "$project",
  "$addFields",
  "$set",
  "$unset",
  "$sort",
  "$limit",
  "$skip",
  "$group",
  "$count",
  "$unwind",
  "$replaceRoot",
  "$replaceWith",
  "$facet",
  "$bucket",
  "$bucketAuto",
  "$sortByCount",
  "$sample",
]);

const assertAllowedStages = (pipeline: unknown, depth = 0): void => {
  if (!Array.isArray(pipeline)) return; // the action's schema refuses it
  if (depth > 100) throw new DataApiError("InvalidParameter", "pipeline nested too deeply");
  for (const stage of pipeline) {
    if (!isPlainObject(stage)) continue;
    for (const [name, spec] of Object.entries(stage)) {
      if (!ALLOWED_STAGES.has(name)) throw new DataApiError("ForbiddenOperator", `aggregation stage ${name} is not allowed`);
      // $facet runs whole pipelines: each is held to the same list.
      if (name === "$facet" && isPlainObject(spec)) for (const inner of Object.values(spec)) assertAllowedStages(inner, depth + 1);
    }
  }
};

/**
 * Refuses pipelines that reach other collections (400 InvalidParameter, at any depth) or use a
 * stage outside the allow-list (400 ForbiddenOperator), in both engines alike.
 */
export const assertSingleCollectionPipeline = (pipeline: unknown): void => {
  const key = findKey(pipeline, CROSS_COLLECTION_STAGES);
  if (key) throw new DataApiError("InvalidParameter", `${key} is not supported: it reaches other collections`);
  assertAllowedStages(pipeline);
};

/** Whether a BSON JavaScript value (`$code`, `$codeWithScope`) sits anywhere in `value`. */
const hasCode = (value: unknown, depth = 0): boolean => {
  if (value instanceof Code) return true;
  if (depth > 100) throw new DataApiError("InvalidParameter", "document nested too deeply");
  if (Array.isArray(value)) return value.some((v) => hasCode(v, depth + 1));
  return isPlainObject(value) && Object.values(value).some((v) => hasCode(v, depth + 1));
};

/**
 * Refuses JavaScript code values in both engines alike: MongoDB deprecated storing them, the
 * embedded engine has no use for them, and FerretDB drops the connection when it meets one.
 */
export const assertNoCodeValues = (value: unknown): void => {
  if (hasCode(value)) throw new DataApiError("InvalidParameter", "JavaScript code values ($code, $codeWithScope) are not supported");
};

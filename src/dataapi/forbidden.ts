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

/** Refuses pipelines that reach other collections, in both engines alike. */
export const assertSingleCollectionPipeline = (pipeline: unknown): void => {
  const key = findKey(pipeline, CROSS_COLLECTION_STAGES);
  if (key) throw new DataApiError("InvalidParameter", `${key} is not supported: it reaches other collections`);
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

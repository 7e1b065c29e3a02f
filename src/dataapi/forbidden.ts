import { isPlainObject } from "./ejson";
import { DataApiError } from "./errors";

/** Operators that would run caller-supplied code on the server. */
const CODE_OPERATORS = new Set(["$where", "$function", "$accumulator"]);

/** Refuses any value that mentions a code-running operator at any depth. */
export const assertNoCodeOperators = (value: unknown, depth = 0): void => {
  if (depth > 100) throw new DataApiError("InvalidParameter", "document nested too deeply");
  if (Array.isArray(value)) {
    for (const item of value) assertNoCodeOperators(item, depth + 1);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    if (CODE_OPERATORS.has(key)) throw new DataApiError("ForbiddenOperator", `operator ${key} is not allowed`);
    assertNoCodeOperators(item, depth + 1);
  }
};

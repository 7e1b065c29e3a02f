import type * as z from "../zod";
import { ValidationError, type ValidationIssue } from "./http-error";

type Where = "body" | "query" | "path" | "header";

const valueAt = (input: unknown, path: PropertyKey[]): unknown => {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
};

/** Names zod's issues the way pydantic does, so FastAPI clients keep parsing them. */
const toIssue = (issue: z.core.$ZodIssue, where: Where, input: unknown): ValidationIssue[] => {
  const loc = [where, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ loc: [...loc, key], msg: "Extra inputs are not permitted", type: "extra_forbidden" }));
    case "invalid_type": {
      if (valueAt(input, issue.path) === undefined) return [{ loc, msg: "Field required", type: "missing" }];
      if (issue.expected === "object") return [{ loc, msg: "Input should be a valid dictionary or object", type: "model_attributes_type" }];
      return [{ loc, msg: `Input should be a valid ${issue.expected}`, type: `${issue.expected}_type` }];
    }
    case "too_small":
      return [{ loc, msg: `String should have at least ${issue.minimum} characters`, type: "string_too_short" }];
    case "too_big":
      return [{ loc, msg: `String should have at most ${issue.maximum} characters`, type: "string_too_long" }];
    case "invalid_format":
      // A pattern says what it wants in its own message (pydantic's string_pattern_mismatch); a named format does not.
      if (issue.format === "regex") return [{ loc, msg: issue.message, type: "string_pattern_mismatch" }];
      return [{ loc, msg: `value is not a valid ${issue.format === "email" ? "email address" : issue.format}`, type: "value_error" }];
    default:
      return [{ loc, msg: issue.message, type: "value_error" }];
  }
};

export const parseOrThrow = <S extends z.ZodMiniType>(schema: S, input: unknown, where: Where): z.infer<S> => {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ValidationError(parsed.error.issues.flatMap((issue) => toIssue(issue, where, input)));
};

export const invalid = (loc: (string | number)[], msg: string): ValidationError => new ValidationError([{ loc, msg, type: "value_error" }]);

import { Decimal128, Double } from "bson";
import { isPlainObject } from "../src/dataapi/ejson";

/**
 * Why FerretDB 1.x cannot take a value in a request, or undefined when it can. It has no
 * Decimal128 and no NaN: meeting either, in a document or a filter, it drops the connection,
 * which the driver reports as a network failure. MongoDB itself stores both.
 */
export const unstorableOnFerretDb = (value: unknown, depth = 0): string | undefined => {
  if (value instanceof Decimal128) return "Decimal128 values are not supported by this server (FerretDB)";
  if (value instanceof Double && Number.isNaN(value.value)) return "NaN values are not supported by this server (FerretDB)";
  if (depth > 200 || !(Array.isArray(value) || isPlainObject(value))) return undefined;
  for (const item of Object.values(value)) {
    const problem = unstorableOnFerretDb(item, depth + 1);
    if (problem) return problem;
  }
  return undefined;
};

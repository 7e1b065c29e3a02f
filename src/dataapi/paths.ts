import { isPlainObject } from "./ejson";

/** Reads a dotted path the way MongoDB does for plain sub-documents. */
export const getPath = (doc: unknown, path: string): unknown => {
  let current: unknown = doc;
  for (const part of path.split(".")) {
    if (!isPlainObject(current)) return undefined;
    current = current[part];
  }
  return current;
};

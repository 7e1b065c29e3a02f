/** Top-level names the server sets on every record; a body that sends them would be overwritten or shadowed. */
export const SERVER_FIELDS = ["_id", "id", "created_at", "updated_at"] as const;

/**
 * Objects and arrays nested deeper than this are refused: far below MongoDB's own limit of 100
 * (which the stored envelope and the protocol's checks also count against), and it keeps the
 * walk below cheap and shallow whatever the body looks like.
 */
export const MAX_RECORD_DEPTH = 32;

/** A body with many bad names gets this many reasons, not one per key. */
const MAX_PROBLEMS = 20;

export interface FieldProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Why MongoDB (or the EJSON between us and it) would refuse or reinterpret a field name: `$`
 * starts operators and EJSON type wrappers (`$oid`, `$date`), `.` is a path separator, NUL ends
 * a BSON key, an empty name is refused by some MongoDB-compatible servers, and `__proto__`
 * would be swallowed by JavaScript object assignment on the way through.
 */
const nameProblem = (key: string): string | null => {
  if (key === "") return "Field names must not be empty";
  if (key.startsWith("$")) return "Field names must not start with '$'";
  if (key.includes(".")) return "Field names must not contain '.'";
  if (key.includes("\0")) return "Field names must not contain the NUL character";
  if (key === "__proto__") return "Field name '__proto__' is not allowed";
  return null;
};

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Every reason a parsed JSON object cannot be stored as a record, each with the path to the
 * offending name. Runs on the raw parsed value: schema libraries drop `__proto__` keys silently.
 */
export const recordFieldProblems = (body: Record<string, unknown>): FieldProblem[] => {
  const problems: FieldProblem[] = Object.keys(body)
    .filter((key) => (SERVER_FIELDS as readonly string[]).includes(key))
    .map((key) => ({ path: [key], message: `'${key}' is set by the server` }));
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (problems.length >= MAX_PROBLEMS || !(Array.isArray(value) || isObject(value))) return;
    // The body itself is level 1, so a container at path length n sits at level n + 1.
    if (path.length >= MAX_RECORD_DEPTH) {
      problems.push({ path, message: `Objects and arrays may be nested at most ${MAX_RECORD_DEPTH} levels deep` });
      return;
    }
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, [...path, index]);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      const problem = nameProblem(key);
      if (problem) problems.push({ path: [...path, key], message: problem });
      walk(item, [...path, key]);
    }
  };
  walk(body, []);
  return problems.slice(0, MAX_PROBLEMS);
};

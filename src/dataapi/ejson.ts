import { EJSON } from "bson";

/**
 * EJSON in and out of the protocol. Requests are parsed in relaxed mode so that numbers become
 * plain JS numbers (what mingo and the domain compute with) while ObjectId, Date and the other
 * BSON types keep their classes.
 */
export const parseEjson = (text: string): unknown => EJSON.parse(text, { relaxed: true });

export const stringifyEjson = (value: unknown): string => EJSON.stringify(value as Parameters<typeof EJSON.stringify>[0], { relaxed: false });

/**
 * Plain JSON for clients that did not ask for EJSON, as the hosted Data API answered them:
 * ObjectId as its hex string, Date as an ISO string, other BSON types in relaxed EJSON.
 */
export const stringifyPlainJson = (value: unknown): string =>
  JSON.stringify(EJSON.serialize(value as Parameters<typeof EJSON.serialize>[0], { relaxed: true }), (_key, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === "$oid") return v.$oid;
      if (keys.length === 1 && keys[0] === "$date") {
        const d = v.$date;
        return typeof d === "string" ? d : new Date(Number(d.$numberLong ?? d)).toISOString();
      }
    }
    return v;
  });

export const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

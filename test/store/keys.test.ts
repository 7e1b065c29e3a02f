import { EJSON, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import type { Doc } from "../../src/dataapi/engine";
import { encodeKey } from "../../src/store/documents";

/**
 * Index entries and `_id`s are stored under `encodeKey`'s text, so a key must be written exactly
 * as before whichever way it is computed: stored databases are looked up by it.
 */
describe("the key of a value", () => {
  it("is EJSON's canonical text for ObjectIds and strings, written without EJSON's walk", () => {
    const values = [
      new ObjectId(),
      new ObjectId("65A0000000000000000000FF"),
      "",
      "acme",
      'quote " and \\ backslash',
      "tab\tnew line\ncontrol \u0001 and \u2028",
      "ünïcødé 組織 🚀",
      "lone \ud800 surrogate",
      "$oid",
    ];
    for (const value of values) expect(encodeKey(value)).toBe(EJSON.stringify({ v: value } as Doc, { relaxed: false }));
  });
});

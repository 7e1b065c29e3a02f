import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SECURITY_HEADERS } from "../../src/http/security-headers";

// The bench prices the headers every answer carries with its bare Worker, a plain module that
// cannot import the service's source: it writes them out, and this keeps the two alike.
describe("the bench's bare Worker", () => {
  it("answers its headed read with the service's security headers, byte for byte", () => {
    const source = readFileSync(join(import.meta.dirname, "..", "..", "bench", "bare-worker.js"), "utf8");
    const literal = source.match(/const SECURITY_HEADERS = (\{[^}]*\});/)?.[1];
    expect(literal).toBeDefined();
    // A plain object literal of string names and values: JSON once its trailing comma is gone.
    expect(JSON.parse((literal as string).replace(/,\s*\}$/, "}"))).toEqual(SECURITY_HEADERS);
  });
});

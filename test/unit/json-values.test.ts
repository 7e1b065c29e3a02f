import { describe, expect, it } from "vitest";
import { countJsonValues } from "../../src/dataapi/limits";

describe("countJsonValues (the body budget, counted before decoding)", () => {
  it("bounds the values of a body from above, within one", () => {
    expect(countJsonValues("{}")).toBe(2);
    expect(countJsonValues('{"a":1,"b":[1,2,{"c":3}]}')).toBe(7);
    const documents = Array.from({ length: 1000 }, () => ({}));
    expect(countJsonValues(JSON.stringify({ documents }))).toBe(1 + 1 + 1 + 999 + 1000);
  });

  it("ignores brackets and commas inside strings, escaped quotes included", () => {
    expect(countJsonValues('{"a":"{[,]}","b":"\\"{,"}')).toBe(3);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { collectionNameFor, maxSlugLength, slugify, slugProblem } from "../../src/domain/kernel/slug";

describe("slugify", () => {
  it.each([
    ["TestOrg", "testorg"],
    ["Org-1", "org_1"],
    ["org_1", "org_1"],
    ["  Acme   Corp!! ", "acme_corp"],
    ["Café Crème", "cafe_creme"],
    ["Ærø", "r"],
    ["ÅNGSTRÖM", "angstrom"],
    ["__x__", "x"],
    ["a..b--c", "a_b_c"],
    ["東京", ""],
    ["!!!", ""],
  ])("%j → %j", (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it.each([
    ["c\u200Dafe", "cafe"],
    ["\u202Ecafe\u202C", "cafe"],
    ["ca\u00ADfe", "cafe"],
    ["cafe\uFE0F", "cafe"],
    ["\uFF23\uFF41\uFF46\uFF45", "cafe"],
    ["\uFB01rm", "firm"],
    ["\u2068Acme\u2069 Corp", "acme_corp"],
  ])("folds look-alike %j to %j", (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it("slugs printable ASCII on its short path exactly as the Unicode passes would", () => {
    // A zero-width space sends a name down the Unicode passes, which then drop it.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..." AaZz09_-.!~`'\"@#$%^&*()[]{}|\\/?<>,;:+=") }), (name) => slugify(name) === slugify(`${name}\u200B`)),
    );
    for (let code = 0x20; code <= 0x7e; code++) {
      const name = `a${String.fromCharCode(code)}b`;
      expect(slugify(name), name).toBe(slugify(`${name}\u200B`));
    }
  });

  it("names the collection org_<slug>", () => {
    expect(collectionNameFor(slugify("TestOrg"))).toBe("org_testorg");
  });
});

describe("slugProblem", () => {
  it("refuses names without letters or digits", () => {
    expect(slugProblem("!!!", "master_db")).toMatch(/at least one letter or digit/);
  });

  it("keeps the collection name within FerretDB's 235 characters", () => {
    const max = maxSlugLength("master_db");
    expect(max).toBe(231);
    expect(`org_${"a".repeat(max)}`).toHaveLength(235);
    expect(slugProblem("a".repeat(max), "master_db")).toBeNull();
    expect(slugProblem("a".repeat(max + 1), "master_db")).toMatch(/too long/);
  });

  it("keeps the namespace within MongoDB's 255 bytes when the database name is long", () => {
    const database = "d".repeat(40);
    const max = maxSlugLength(database);
    expect(`${database}.org_${"a".repeat(max)}`).toHaveLength(255);
    expect(slugProblem("a".repeat(max + 1), database)).toMatch(/too long/);
  });
});

/** A fixed seed keeps CI reproducible, as in the fuzzing suite. */
const PROPERTY = { numRuns: 500, seed: 20_261_126 };

/** Code points that render as nothing: each one a Default_Ignorable_Code_Point. */
const INVISIBLES = [
  "\u00AD",
  "\u034F",
  "\u061C",
  "\u180E",
  "\u200B",
  "\u200C",
  "\u200D",
  "\u200E",
  "\u200F",
  "\u202A",
  "\u202E",
  "\u2060",
  "\u2066",
  "\u2069",
  "\uFE00",
  "\uFE0F",
  "\uFEFF",
  "\u{E0001}",
  "\u{E0100}",
];

/** `name` with invisible code points inserted at the positions `at` (between code points). */
const withInvisibles = (name: string, inserts: [number, string][]): string => {
  const points = [...name];
  for (const [at, invisible] of inserts) points.splice(at % (points.length + 1), 0, invisible);
  return points.join("");
};

const names = fc.string({ unit: "grapheme", maxLength: 24 });
const latinNames = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzàáâãäåçèéêëìíîïñòóôõöùúûüýÿ0123456789 -_.".split("")), maxLength: 24 });

describe("names that render the same are one organization", () => {
  it("invisible code points never change the slug", () => {
    fc.assert(
      fc.property(names, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INVISIBLES)), { maxLength: 6 }), (name, inserts) => {
        expect(slugify(withInvisibles(name, inserts))).toBe(slugify(name));
      }),
      PROPERTY,
    );
  });

  it("canonical and compatibility forms share one slug", () => {
    fc.assert(
      fc.property(names, (name) => {
        for (const form of ["NFC", "NFD", "NFKC", "NFKD"] as const) expect(slugify(name.normalize(form))).toBe(slugify(name));
      }),
      PROPERTY,
    );
  });

  it("case never changes the slug", () => {
    fc.assert(
      fc.property(names, (name) => {
        expect(slugify(name.toLowerCase())).toBe(slugify(name));
      }),
      PROPERTY,
    );
    fc.assert(
      fc.property(latinNames, (name) => {
        expect(slugify(name.toUpperCase())).toBe(slugify(name));
      }),
      PROPERTY,
    );
  });

  it("refuses control characters, NUL included", () => {
    for (const name of ["a\u0000b", "a\u0007b", "tab\there", "line\nbreak", "del\u007F", "c1\u0085x", "c1\u009Fx"]) {
      expect(slugProblem(name, "master_db")).toMatch(/control characters/);
    }
    fc.assert(
      fc.property(
        names,
        fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f),
        (name, code) => {
          expect(slugProblem(`${name}${String.fromCodePoint(code)}x`, "master_db")).toMatch(/control characters/);
        },
      ),
      PROPERTY,
    );
  });
});

import { describe, expect, it } from "vitest";
import { collectionNameFor, maxSlugLength, slugify, slugProblem } from "../../src/domain/slug";

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

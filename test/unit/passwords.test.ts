import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { dummyHash, hashPassword, needsRehash, verifyPassword, WORKERS_PBKDF2_MAX_ITERATIONS } from "../../src/domain/accounts/passwords";

// Hashes written by the FastAPI service (passlib 1.7.4 pbkdf2_sha256), from the shared test vectors.
const PASSLIB_TEST1234 = "$pbkdf2-sha256$29000$AAECAwQFBgcICQoLDA0ODw$LCgxQaeveYt7qMsxuLtCXJax8PgZVnbCwp2GVfJ6Lzk";
const PASSLIB_STAPLE = "$pbkdf2-sha256$29000$KaU0prSWsjbG2HvPOUfo3Q$sazwR0QSLh6YCWZ4OSAvxHn1vS1RrbUpcr00DHINyhU";

describe("passlib compatibility", () => {
  it("verifies the old service's hashes", async () => {
    expect(await verifyPassword("Test1234", PASSLIB_TEST1234)).toBe(true);
    expect(await verifyPassword("correct horse battery staple", PASSLIB_STAPLE)).toBe(true);
  });

  it("rejects wrong passwords against them", async () => {
    expect(await verifyPassword("Test12345", PASSLIB_TEST1234)).toBe(false);
    expect(await verifyPassword("test1234", PASSLIB_TEST1234)).toBe(false);
  });

  it("asks for a rehash of hashes below the configured cost", () => {
    expect(needsRehash(PASSLIB_TEST1234, 100_000)).toBe(true);
  });
});

describe("new hashes", () => {
  it("use passlib's format, so the old service could verify them too", async () => {
    const hash = await hashPassword("s3cret-pass", 100_000);
    expect(hash).toMatch(/^\$pbkdf2-sha256\$100000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{43}$/);
    expect(await verifyPassword("s3cret-pass", hash)).toBe(true);
    expect(await verifyPassword("s3cret-pasS", hash)).toBe(false);
    expect(needsRehash(hash, 100_000)).toBe(false);
  });

  it("salt every hash afresh", async () => {
    expect(await hashPassword("same", 1000)).not.toBe(await hashPassword("same", 1000));
  });

  it("never verify malformed or over-cost hashes", async () => {
    for (const bad of [
      "",
      "plain",
      "$pbkdf2-sha256$x$AA$BB",
      "$pbkdf2-sha256$29000$AAECAwQFBgcICQoLDA0ODw$short",
      `$pbkdf2-sha256$200000$AAECAwQFBgcICQoLDA0ODw$${"A".repeat(43)}`,
    ]) {
      expect(await verifyPassword("Test1234", bad)).toBe(false);
    }
    expect(await verifyPassword("anything", dummyHash(100_000))).toBe(false);
  });
});

describe("the PBKDF2 cap of deployed Workers", () => {
  it("is the default cost", () => {
    expect(WORKERS_PBKDF2_MAX_ITERATIONS).toBe(100_000);
    expect(parseSettings({ JWT_SECRET: "x".repeat(32) }).pbkdf2Iterations).toBe(100_000);
  });

  it("cannot be exceeded by configuration, though local workerd would accept more", async () => {
    expect(() => parseSettings({ JWT_SECRET: "x".repeat(32), PBKDF2_ITERATIONS: "100001" })).toThrow(/PBKDF2_ITERATIONS/);
    await expect(hashPassword("x", 100_001)).rejects.toThrow(TypeError);
  });
});

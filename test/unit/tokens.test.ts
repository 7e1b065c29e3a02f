import { decodeProtectedHeader, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/kernel/errors";
import { CLOCK_TOLERANCE_SECONDS, issueToken, type TokenSettings, verifyToken } from "../../src/domain/kernel/tokens";

const settings: TokenSettings = { secret: "k".repeat(40), algorithm: "HS256", ttlSeconds: 3600, issuer: "iss-test", audience: "aud-test" };
const subject = { userId: "a".repeat(24), orgId: "b".repeat(24), orgName: "TestOrg", tokenVersion: 3, role: "owner" as const };
const now = new Date("2026-01-01T00:00:00Z");

const expectInvalid = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe("INVALID_TOKEN");
};

/** A token signed with the test secret, of the service's issuer and audience, valid for a minute from `now`. */
const signedWithSecret = (claims: Record<string, unknown>, header: Record<string, unknown>, sub: string) =>
  new SignJWT(claims)
    .setProtectedHeader(header as { alg: string })
    .setSubject(sub)
    .setIssuer("iss-test")
    .setAudience("aud-test")
    .setIssuedAt(now)
    .setExpirationTime(new Date(now.getTime() + 60_000))
    .setJti("j")
    .sign(new TextEncoder().encode(settings.secret));

describe("tokens", () => {
  it("carry the claims the old clients read, and verify", async () => {
    const token = await issueToken(subject, settings, now);
    const [, payload] = token.split(".");
    const claims = JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims).toMatchObject({
      admin_id: subject.userId,
      org_id: subject.orgId,
      org_name: "TestOrg",
      sub: subject.userId,
      iss: "iss-test",
      aud: "aud-test",
    });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(typeof claims.jti).toBe("string");
    expect(await verifyToken(token, settings, now)).toMatchObject({ ...subject, expiresAt: claims.exp });
  });

  it("expire, with only the documented clock tolerance", async () => {
    const token = await issueToken(subject, settings, now);
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    await expect(verifyToken(token, settings, at(3600 + CLOCK_TOLERANCE_SECONDS - 1))).resolves.toBeTruthy();
    await expectInvalid(verifyToken(token, settings, at(3600 + CLOCK_TOLERANCE_SECONDS + 1)));
  });

  it("refuse a token issued in the future beyond the clock tolerance", async () => {
    const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    await expectInvalid(verifyToken(await issueToken(subject, settings, later(3600)), settings, now));
    await expectInvalid(verifyToken(await issueToken(subject, settings, later(CLOCK_TOLERANCE_SECONDS + 2)), settings, now));
    await expect(verifyToken(await issueToken(subject, settings, later(CLOCK_TOLERANCE_SECONDS - 1)), settings, now)).resolves.toBeTruthy();
  });

  it("refuse another key, issuer, audience or algorithm", async () => {
    const token = await issueToken(subject, settings, now);
    // Verified once under its own settings: that answer is kept for those settings only.
    await expect(verifyToken(token, settings, now)).resolves.toBeTruthy();
    await expectInvalid(verifyToken(token, { ...settings, secret: "z".repeat(40) }, now));
    await expectInvalid(verifyToken(token, { ...settings, issuer: "other" }, now));
    await expectInvalid(verifyToken(token, { ...settings, audience: "other" }, now));
    await expectInvalid(verifyToken(token, { ...settings, algorithm: "HS512" }, now));
  });

  it("refuse unsigned and tampered tokens", async () => {
    const unsigned = new UnsecuredJWT({ admin_id: subject.userId, org_id: subject.orgId, org_name: "x", tv: 3 })
      .setSubject(subject.userId)
      .setIssuer("iss-test")
      .setAudience("aud-test")
      .setIssuedAt()
      .setExpirationTime("1h")
      .encode();
    await expectInvalid(verifyToken(unsigned, settings, new Date()));
    const token = await issueToken(subject, settings, now);
    const [h, , s] = token.split(".");
    const forged = btoa(JSON.stringify({ admin_id: subject.userId, org_id: "c".repeat(24), org_name: "x", tv: 3 })).replace(/=+$/, "");
    await expectInvalid(verifyToken(`${h}.${forged}.${s}`, settings, now));
    await expectInvalid(verifyToken("not-a-jwt", settings, now));
  });

  it("refuse well-signed tokens that lack the service's claims", async () => {
    const bare = await signedWithSecret({ org_id: subject.orgId }, { alg: "HS256" }, "x");
    await expectInvalid(verifyToken(bare, settings, now));
  });

  it("refuse a header naming another algorithm or a key that is not there, signed with the right secret", async () => {
    const claims = { admin_id: subject.userId, org_id: subject.orgId, org_name: "x", tv: 3, role: "owner" };
    const signed = (header: Record<string, unknown>) => signedWithSecret(claims, header, subject.userId);
    // The same claims under the header the service writes verify: only the header differs below.
    const header = decodeProtectedHeader(await issueToken(subject, settings, now)) as Record<string, unknown>;
    await expect(verifyToken(await signed(header), settings, now)).resolves.toBeTruthy();
    await expectInvalid(verifyToken(await signed({ ...header, alg: "HS512" }), settings, now));
    await expectInvalid(verifyToken(await signed({ ...header, kid: "another" }), settings, now));
    await expectInvalid(verifyToken(await signed({ ...header, kid: 7 }), settings, now));
  });
});

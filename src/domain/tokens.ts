import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { AppError } from "./errors";

export type JwtAlgorithm = "HS256" | "HS384" | "HS512";

export interface TokenSettings {
  secret: string;
  algorithm: JwtAlgorithm;
  ttlSeconds: number;
  issuer: string;
  audience: string;
}

/** Clock skew tolerated between the issuer and verifiers, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenSubject {
  adminId: string;
  orgId: string;
  orgName: string;
  /** The admin's token version: raising it revokes every token issued before. */
  tokenVersion: number;
}

export interface TokenClaims extends TokenSubject {
  jti: string;
  expiresAt: number;
}

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

export const issueToken = async (subject: TokenSubject, settings: TokenSettings, now: Date): Promise<string> => {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({ admin_id: subject.adminId, org_id: subject.orgId, org_name: subject.orgName, tv: subject.tokenVersion })
    .setProtectedHeader({ alg: settings.algorithm, typ: "JWT" })
    .setSubject(subject.adminId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + settings.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(keyOf(settings.secret));
};

/**
 * Verifies signature, algorithm (pinned: never `none`, never another family), issuer, audience
 * and expiry. Every failure is the same 401, so a caller learns nothing about why.
 */
export const verifyToken = async (token: string, settings: TokenSettings, now: Date): Promise<TokenClaims> => {
  try {
    const { payload } = await jwtVerify(token, keyOf(settings.secret), {
      algorithms: [settings.algorithm],
      issuer: settings.issuer,
      audience: settings.audience,
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp", "iat", "sub", "jti"],
    });
    const { admin_id, org_id, org_name, tv, jti, exp } = payload;
    if (
      typeof admin_id !== "string" ||
      typeof org_id !== "string" ||
      typeof org_name !== "string" ||
      typeof tv !== "number" ||
      typeof jti !== "string" ||
      typeof exp !== "number"
    ) {
      throw new AppError("INVALID_TOKEN");
    }
    return { adminId: admin_id, orgId: org_id, orgName: org_name, tokenVersion: tv, jti, expiresAt: exp };
  } catch (error) {
    if (error instanceof AppError || error instanceof joseErrors.JOSEError) throw new AppError("INVALID_TOKEN");
    throw error;
  }
};

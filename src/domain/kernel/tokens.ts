import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { AppError } from "./errors";
import { type KeySettings, keyRing } from "./keys";
import { isRole, isRoleName, MAX_ROLES_PER_MEMBER } from "./roles";

export type { JwtAlgorithm } from "./keys";

export interface TokenSettings extends KeySettings {
  ttlSeconds: number;
  issuer: string;
  audience: string;
}

/** Clock skew tolerated between the issuer and verifiers, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenSubject {
  /** The member's user id: the `admin_id` claim (and `sub`), the old contract's name for it. */
  userId: string;
  orgId: string;
  orgName: string;
  /** The member's token version: raising it revokes every token issued before. */
  tokenVersion: number;
  /** The member's first role (the `role` claim): the built-in one, or else their first custom role. */
  role: string;
  /** Every role, when the member holds a custom one (the `roles` claim, at most MAX_ROLES_PER_MEMBER names); absent otherwise. */
  roles?: string[];
  /** The member's teams (the `teams` claim, team ids): at most MAX_TEAMS_IN_TOKEN, as of the token's issue. */
  teams?: string[];
  /** The holder proved the address is theirs (a mailed link): the `email_verified` claim, as of the token's issue. */
  emailVerified?: boolean;
}

export interface TokenClaims extends TokenSubject {
  jti: string;
  expiresAt: number;
}

/**
 * The most teams a token names. Past it the token names the first of them by id and says
 * `teams_more: true`: `GET /org/members` lists them all. Teams are what the member was in when
 * the token was issued (a team change does not revoke tokens); what a member may do never depends on them.
 */
export const MAX_TEAMS_IN_TOKEN = 20;

const teamsClaim = (teams: string[]) => {
  const sorted = [...teams].sort();
  return { teams: sorted.slice(0, MAX_TEAMS_IN_TOKEN), ...(sorted.length > MAX_TEAMS_IN_TOKEN ? { teams_more: true } : {}) };
};

/** Signs claims for a user with the current key: the registered claims every token of the service carries. */
const signToken = async (claims: Record<string, unknown>, userId: string, settings: TokenSettings, now: Date): Promise<string> => {
  const ring = await keyRing(settings);
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ring.alg, typ: "JWT", kid: ring.kid })
    .setSubject(userId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + settings.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(ring.signingKey);
};

export const issueToken = (subject: TokenSubject, settings: TokenSettings, now: Date): Promise<string> =>
  signToken(
    {
      admin_id: subject.userId,
      org_id: subject.orgId,
      org_name: subject.orgName,
      tv: subject.tokenVersion,
      role: subject.role,
      ...(subject.roles ? { roles: subject.roles } : {}),
      ...(subject.teams?.length ? teamsClaim(subject.teams) : {}),
      ...(subject.emailVerified ? { email_verified: true } : {}),
    },
    subject.userId,
    settings,
    now,
  );

const isRoleList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length <= MAX_ROLES_PER_MEMBER && value.every((role) => isRole(role) || isRoleName(role));

const claimsOf = (payload: Record<string, unknown>): TokenClaims => {
  const { admin_id, org_id, org_name, tv, jti, exp } = payload;
  // Tokens from before roles were their organization's one admin's, now its owner.
  const role = payload.role ?? "owner";
  if (
    typeof admin_id !== "string" ||
    typeof org_id !== "string" ||
    typeof org_name !== "string" ||
    typeof tv !== "number" ||
    typeof jti !== "string" ||
    typeof exp !== "number" ||
    !(isRole(role) || isRoleName(role)) ||
    !(payload.roles === undefined || isRoleList(payload.roles))
  ) {
    throw new AppError("INVALID_TOKEN");
  }
  return {
    userId: admin_id,
    orgId: org_id,
    orgName: org_name,
    tokenVersion: tv,
    role,
    ...(payload.roles ? { roles: payload.roles } : {}),
    jti,
    expiresAt: exp,
    emailVerified: payload.email_verified === true,
  };
};

/**
 * Tokens already verified, by the settings that verified them: a client sends the same token on
 * every call, and checking its signature again (jose's decoding and an HMAC) was a twentieth of a
 * record page's CPU. What a token's text fixes (its signature, issuer, audience, the claims
 * present) is kept; its expiry is checked on every use, and whether it was revoked is the store's
 * question on every request, as before. Bounded, the oldest forgotten first.
 */
const verified = new WeakMap<TokenSettings, Map<string, Readonly<Record<string, unknown>>>>();
const VERIFIED_KEPT = 1_000;

/**
 * A kept token's expiry, checked as jose checks it (whole seconds, with the clock tolerance). Its
 * issue and not-before times passed at its first use, and a later clock passes them still.
 */
const unexpired = (payload: Readonly<Record<string, unknown>>, now: Date): boolean =>
  (payload.exp as number) > Math.floor(now.getTime() / 1000) - CLOCK_TOLERANCE_SECONDS;

/** The verified payload, or the same 401 as any other bad token. */
const verifiedPayload = async (token: string, settings: TokenSettings, now: Date): Promise<Readonly<Record<string, unknown>>> => {
  let known = verified.get(settings);
  const seen = known?.get(token);
  if (seen) {
    if (!unexpired(seen, now)) throw new AppError("INVALID_TOKEN");
    return seen;
  }
  const payload = await checkedPayload(token, settings, now);
  if (!known) {
    known = new Map();
    verified.set(settings, known);
  }
  if (known.size >= VERIFIED_KEPT) known.delete(known.keys().next().value as string);
  known.set(token, payload);
  return payload;
};

const checkedPayload = async (token: string, settings: TokenSettings, now: Date): Promise<Readonly<Record<string, unknown>>> => {
  try {
    const ring = await keyRing(settings);
    // The key the header's kid names, for the algorithm that key is for alone: never `none`, never
    // another family. Tokens without a kid predate rotation support: only the current key verifies them.
    const keyFor = ({ kid, alg }: { kid?: string; alg?: string }) => {
      const entry = ring.verifyKeys.get(kid ?? ring.kid);
      if (!entry || alg !== entry.alg) throw new AppError("INVALID_TOKEN");
      return entry.key;
    };
    const { payload } = await jwtVerify(token, keyFor, {
      issuer: settings.issuer,
      audience: settings.audience,
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp", "iat", "sub", "jti"],
    });
    // jose checks `iat` only against a maximum age: a token stamped in the future would outlive
    // its lifetime by as much, so one issued beyond the clock tolerance is refused.
    if (typeof payload.iat !== "number" || payload.iat > now.getTime() / 1000 + CLOCK_TOLERANCE_SECONDS) throw new AppError("INVALID_TOKEN");
    return payload;
  } catch (error) {
    if (error instanceof AppError || error instanceof joseErrors.JOSEError) throw new AppError("INVALID_TOKEN");
    throw error;
  }
};

/**
 * Verifies signature, algorithm (pinned to the key the `kid` names: never `none`, never another
 * family), issuer, audience, expiry and issue time. Every failure is the same 401: a caller learns nothing about why.
 * An account token (no organization) is such a failure: it opens no organization's routes.
 */
export const verifyToken = async (token: string, settings: TokenSettings, now: Date): Promise<TokenClaims> =>
  claimsOf(await verifiedPayload(token, settings, now));

/**
 * An account token: the signed-in person with no organization chosen (an account opened by sign-up
 * that belongs to none yet). It opens the account's own routes (the organizations it may join) and
 * nothing of any organization's. `tv` is the account's token version, which a password change raises.
 */
export interface AccountClaims {
  userId: string;
  tokenVersion: number;
}

export const ACCOUNT_SCOPE = "account";

export const issueAccountToken = (subject: AccountClaims, settings: TokenSettings, now: Date): Promise<string> =>
  signToken({ admin_id: subject.userId, tv: subject.tokenVersion, scope: ACCOUNT_SCOPE }, subject.userId, settings, now);

/** An account token's claims, or null for a member's token (which names an organization); a bad token is a 401. */
export const verifyAccountToken = async (token: string, settings: TokenSettings, now: Date): Promise<AccountClaims | TokenClaims> => {
  const payload = await verifiedPayload(token, settings, now);
  if (payload.scope !== ACCOUNT_SCOPE) return claimsOf(payload);
  if (typeof payload.admin_id !== "string" || typeof payload.tv !== "number" || payload.org_id !== undefined) throw new AppError("INVALID_TOKEN");
  return { userId: payload.admin_id, tokenVersion: payload.tv };
};

import { ObjectId } from "bson";
import { type ApiKeyPrincipal, authenticateKey, isApiKey, keyPath, keyValidPath } from "./api-key-secret";
import type { Deps } from "./deps";
import { AppError } from "./errors";
import { memberOf, memberPath, type OrganizationDoc } from "./model";
import type { Role } from "./roles";
import { type TokenClaims, verifyToken } from "./tokens";

/** Who is calling: a member of one organization, proven by password or by token. */
export interface Principal {
  orgId: ObjectId;
  userId: ObjectId;
  tokenVersion: number;
  role: Role;
  /** The token's `email_verified` claim: carried into the token a switch issues. */
  emailVerified?: boolean;
}

/** Whoever a bearer credential names: a member (by token) or one of the organization's API keys. */
export type Caller = Principal | ApiKeyPrincipal;

export { type ApiKeyPrincipal, isApiKey };

const objectIdOf = (hex: string): ObjectId => {
  if (!ObjectId.isValid(hex) || hex.length !== 24) throw new AppError("INVALID_TOKEN");
  return ObjectId.createFromHexString(hex);
};

export const principalOf = (claims: TokenClaims): Principal => ({
  orgId: objectIdOf(claims.orgId),
  userId: objectIdOf(claims.userId),
  tokenVersion: claims.tokenVersion,
  role: claims.role,
  emailVerified: claims.emailVerified,
});

/**
 * The caller a bearer credential names, checked as far as it can be without the store: a token's
 * signature, or a key's form. A key's secret is checked by the guard of the request's own read or
 * write (`currentToken`), so a key costs no round trip of its own.
 */
export const authenticateBearer = async (deps: Deps, token: string): Promise<Caller> =>
  (await authenticateKey(token, deps.now())) ?? authenticateToken(deps, token);

/** A member's token, checked by its signature. */
export const authenticateToken = async (deps: Deps, token: string): Promise<Principal> =>
  principalOf(await verifyToken(token, deps.settings.token, deps.now()));

/**
 * The filter that admits a caller's credential: a member's token when its membership exists and
 * its version is current; a key when the hash of its secret is one of the key's open secrets.
 * Every write a credential authorises carries it, so a removed member, a changed role (which
 * raises the version) or a revoked or expired key is refused at once, whatever the credential says.
 */
export const currentToken = (caller: Caller): Record<string, unknown> =>
  isApiKey(caller)
    ? { [keyValidPath(caller.keyId, caller.secretHash)]: { $gt: caller.at } }
    : { [memberPath(caller.userId, "token_version")]: caller.tokenVersion };

/** The fields of the organization's document `isCurrent` needs for this caller. */
export const credentialPath = (caller: Caller): string =>
  isApiKey(caller) ? keyValidPath(caller.keyId, caller.secretHash) : memberPath(caller.userId, "token_version");

export const isCurrent = (org: Pick<OrganizationDoc, "members" | "api_keys"> | null | undefined, caller: Caller): boolean => {
  if (!org) return false;
  if (!isApiKey(caller)) return memberOf(org, caller.userId)?.token_version === caller.tokenVersion;
  const until = org.api_keys?.[caller.keyId]?.secrets?.[caller.secretHash];
  return until instanceof Date && until.getTime() > caller.at.getTime();
};

export { keyPath };

import { ObjectId } from "bson";
import { type ApiKeyPrincipal, authenticateKey, isApiKey, keyPath, keyValidPath } from "./api-key-secret";
import type { Deps } from "./deps";
import { AppError } from "./errors";
import { memberOf, memberPath, type OrganizationDoc } from "./model";
import { can, isRole, type Permission } from "./roles";
import { type TokenClaims, verifyToken } from "./tokens";

/** Who is calling: a member of one organization, proven by password or by token. */
export interface Principal {
  orgId: ObjectId;
  userId: ObjectId;
  tokenVersion: number;
  /** The member's first role: built-in, or else custom. */
  role: string;
  /** The custom roles the member held when the token was issued (assigning roles raises the token version). */
  customRoles?: string[];
  /**
   * The permission the request needs that no built-in role of the member gives, set when one of
   * `customRoles` may: every guard of the request then also asks the organization's document
   * whether one of them still gives it (`currentToken`).
   */
  grant?: Permission;
  /**
   * Set on a route a team's lead may use without its permission (`leadMay`) when the member's
   * roles do not give it: the feature then admits them only as a lead of the team concerned.
   */
  asLead?: true;
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
  ...(claims.roles ? { customRoles: claims.roles.filter((role) => !isRole(role)) } : {}),
  emailVerified: claims.emailVerified,
});

/**
 * The member allowed `permission`: by a built-in role at once; by a custom role once the request's
 * guard finds the role still gives it. PERMISSION_DENIED when no role the member holds could.
 */
export const withPermission = (principal: Principal, permission: Permission | undefined): Principal => {
  if (!permission || can(principal.role, permission)) return principal;
  if (!principal.customRoles?.length) throw new AppError("PERMISSION_DENIED");
  return { ...principal, grant: permission };
};

/** Where the document says which custom roles give a permission. */
export const grantPath = (permission: Permission): string => `role_grants.${permission}`;

/** The filter that a custom role the member holds still gives the permission of the request; empty for one a built-in role gives. */
const grantFilter = (principal: Principal): Record<string, unknown> =>
  principal.grant ? { [grantPath(principal.grant)]: { $in: principal.customRoles ?? [] } } : {};

/**
 * The filter that the member holds each of `permissions` (what they hand on, as an API key's
 * scopes): at once for those a built-in role gives, in the guard for those a custom role must;
 * PERMISSION_DENIED when no role they hold could.
 */
export const holdingFilter = (principal: Principal, permissions: readonly Permission[]): Record<string, unknown> => {
  const fromCustom = permissions.filter((permission) => !can(principal.role, permission));
  if (fromCustom.length && !principal.customRoles?.length) throw new AppError("PERMISSION_DENIED");
  return Object.fromEntries(fromCustom.map((permission) => [grantPath(permission), { $in: principal.customRoles }]));
};

/** Whether the document's custom roles give the member the permission their request needs (always, for one a built-in role gives). */
export const isGranted = (org: Pick<OrganizationDoc, "role_grants">, caller: Caller): boolean => {
  if (isApiKey(caller) || !caller.grant) return true;
  const givers = org.role_grants?.[caller.grant] ?? [];
  return givers.some((role) => caller.customRoles?.includes(role));
};

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
 * its version is current (and, for a permission from a custom role, the role still gives it); a
 * key when the hash of its secret is one of the key's open secrets.
 * Every write a credential authorises carries it, so a removed member, a changed role (which
 * raises the version) or a revoked or expired key is refused at once, whatever the credential says.
 */
export const currentToken = (caller: Caller): Record<string, unknown> =>
  isApiKey(caller)
    ? { [keyValidPath(caller.keyId, caller.secretHash)]: { $gt: caller.at } }
    : { [memberPath(caller.userId, "token_version")]: caller.tokenVersion, ...grantFilter(caller) };

/** The fields of the organization's document `isCurrent` and `isGranted` need for this caller. */
export const credentialFields = (caller: Caller): Record<string, 1> => {
  if (isApiKey(caller)) return { [keyValidPath(caller.keyId, caller.secretHash)]: 1 };
  return { [memberPath(caller.userId, "token_version")]: 1, ...(caller.grant ? { [grantPath(caller.grant)]: 1 } : {}) };
};

/** Whether the credential is current: a permission a custom role gives is `isGranted`'s question, answered apart (a 403, not a 401). */
export const isCurrent = (org: Pick<OrganizationDoc, "members" | "api_keys"> | null | undefined, caller: Caller): boolean => {
  if (!org) return false;
  if (!isApiKey(caller)) return memberOf(org, caller.userId)?.token_version === caller.tokenVersion;
  const until = org.api_keys?.[caller.keyId]?.secrets?.[caller.secretHash];
  return until instanceof Date && until.getTime() > caller.at.getTime();
};

export { keyPath };

import { ObjectId } from "bson";
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
}

const objectIdOf = (hex: string): ObjectId => {
  if (!ObjectId.isValid(hex) || hex.length !== 24) throw new AppError("INVALID_TOKEN");
  return ObjectId.createFromHexString(hex);
};

export const principalOf = (claims: TokenClaims): Principal => ({
  orgId: objectIdOf(claims.orgId),
  userId: objectIdOf(claims.userId),
  tokenVersion: claims.tokenVersion,
  role: claims.role,
});

export const authenticateToken = async (deps: Deps, token: string): Promise<Principal> =>
  principalOf(await verifyToken(token, deps.settings.token, deps.now()));

/**
 * The filter that admits a principal's token: its membership exists and its version is current.
 * Every write a token authorises carries it, so a removed member or a changed role (which raises
 * the version) is refused at once, whatever the token says.
 */
export const currentToken = (principal: Principal) => ({ [memberPath(principal.userId, "token_version")]: principal.tokenVersion });

export const isCurrent = (org: Pick<OrganizationDoc, "members"> | null | undefined, principal: Principal): boolean =>
  !!org && memberOf(org, principal.userId)?.token_version === principal.tokenVersion;

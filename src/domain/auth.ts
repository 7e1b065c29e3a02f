import { ObjectId } from "bson";
import { AppError } from "./errors";
import { type Deps, normalizeEmail, type OrganizationDoc } from "./organization";
import { dummyHash, hashPassword, needsRehash, verifyPassword } from "./passwords";
import { issueToken, type TokenClaims, verifyToken } from "./tokens";

/** Who is calling: an organization's admin, proven by password or by token. */
export interface Principal {
  orgId: ObjectId;
  tokenVersion: number;
}

/** Organizations whose admin may log in: not half-created, not being deleted. */
export const LOGIN_STATUSES = ["active", "renaming"] as const;

export const principalOf = (claims: TokenClaims): Principal => {
  if (!ObjectId.isValid(claims.orgId) || claims.orgId.length !== 24) throw new AppError("INVALID_TOKEN");
  return { orgId: ObjectId.createFromHexString(claims.orgId), tokenVersion: claims.tokenVersion };
};

export const authenticateToken = async (deps: Deps, token: string): Promise<Principal> =>
  principalOf(await verifyToken(token, deps.settings.token, deps.now()));

/**
 * Checks an admin's e-mail and password in one read. Unknown e-mails are checked against a
 * dummy hash so both failures take the same time and get the same answer.
 */
export const verifyCredentials = async (deps: Deps, email: string, password: string): Promise<OrganizationDoc> => {
  const iterations = deps.settings.pbkdf2Iterations;
  const org = await deps.organizations.findOne({ "admin.email_key": normalizeEmail(email) });
  const hash = org?.admin.password_hash ?? dummyHash(iterations);
  const valid = await verifyPassword(password, hash);
  if (!org || !valid || !(LOGIN_STATUSES as readonly string[]).includes(org.status)) throw new AppError("INVALID_CREDENTIALS");
  if (needsRehash(hash, iterations)) await rehash(deps, org, password);
  return org;
};

/** Rewrites an old or cheaper hash at the configured cost; a failure here never fails a login. */
const rehash = async (deps: Deps, org: OrganizationDoc, password: string): Promise<void> => {
  try {
    const fresh = await hashPassword(password, deps.settings.pbkdf2Iterations);
    await deps.organizations.updateOne({ _id: org._id, "admin.password_hash": org.admin.password_hash }, { $set: { "admin.password_hash": fresh } });
  } catch (error) {
    console.warn(JSON.stringify({ msg: "password rehash failed", error: String(error) }));
  }
};

export const login = async (deps: Deps, email: string, password: string): Promise<{ access_token: string; token_type: "bearer" }> => {
  const org = await verifyCredentials(deps, email, password);
  const access_token = await issueToken(
    { adminId: org.admin.id.toHexString(), orgId: org._id.toHexString(), orgName: org.organization_name, tokenVersion: org.admin.token_version },
    deps.settings.token,
    deps.now(),
  );
  return { access_token, token_type: "bearer" };
};

import { ObjectId } from "bson";
import type { Doc } from "../dataapi/engine";
import { AppError } from "./errors";
import { lockedForMs } from "./lockout";
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

const canLogIn = (org: OrganizationDoc): boolean => (LOGIN_STATUSES as readonly string[]).includes(org.status);

/**
 * Checks a password for the admin `filter` selects, in one round trip before the answer. The
 * attempt is counted as a failure atomically *before* the password is checked, so parallel
 * guesses cannot slip past the lockout; a success clears the count afterwards, in the background.
 * Unknown admins are checked against a dummy hash: same time, same answer.
 */
const checkPassword = async (deps: Deps, filter: Doc, password: string, failure: "INVALID_CREDENTIALS" | "INVALID_TOKEN"): Promise<OrganizationDoc> => {
  const { pbkdf2Iterations: iterations, lockoutThreshold } = deps.settings;
  const now = deps.now();
  const org = await deps.organizations.findOneAndUpdate(filter, { $inc: { "admin.failed_logins": 1 }, $set: { "admin.last_failed_at": now } });
  const lockedMs = org ? lockedForMs(org.admin.failed_logins ?? 0, org.admin.last_failed_at, now, lockoutThreshold) : 0;
  if (lockedMs > 0) throw new AppError("ACCOUNT_LOCKED", undefined, lockedMs / 1000);
  const hash = org?.admin.password_hash ?? dummyHash(iterations);
  const valid = await verifyPassword(password, hash);
  if (!org || !valid || !canLogIn(org)) throw new AppError(failure === "INVALID_TOKEN" && org && valid ? "INVALID_TOKEN" : "INVALID_CREDENTIALS");
  deps.background((later) => clearFailures(later, org, password));
  return org;
};

/** Resets the failure count and, for an old or cheaper hash, rewrites it at the configured cost. */
const clearFailures = async (deps: Deps, org: OrganizationDoc, password: string): Promise<void> => {
  const $set: Doc = { "admin.failed_logins": 0 };
  if (needsRehash(org.admin.password_hash, deps.settings.pbkdf2Iterations)) {
    $set["admin.password_hash"] = await hashPassword(password, deps.settings.pbkdf2Iterations);
  }
  await deps.organizations.updateOne({ _id: org._id, "admin.password_hash": org.admin.password_hash }, { $set, $unset: { "admin.last_failed_at": "" } });
};

/** Checks an admin's e-mail and password (login, and renames authorised by password). */
export const verifyCredentials = (deps: Deps, email: string, password: string): Promise<OrganizationDoc> =>
  checkPassword(deps, { "admin.email_key": normalizeEmail(email) }, password, "INVALID_CREDENTIALS");

const tokenFor = (deps: Deps, org: OrganizationDoc, tokenVersion = org.admin.token_version) =>
  issueToken(
    { adminId: org.admin.id.toHexString(), orgId: org._id.toHexString(), orgName: org.organization_name, tokenVersion },
    deps.settings.token,
    deps.now(),
  );

export const login = async (deps: Deps, email: string, password: string): Promise<{ access_token: string; token_type: "bearer"; org: OrganizationDoc }> => {
  const org = await verifyCredentials(deps, email, password);
  return { access_token: await tokenFor(deps, org), token_type: "bearer", org };
};

/** Revokes every token of the admin issued so far, the presented one included. */
export const logout = async (deps: Deps, principal: Principal): Promise<void> => {
  const { matchedCount } = await deps.organizations.updateOne(
    { _id: principal.orgId, "admin.token_version": principal.tokenVersion },
    { $inc: { "admin.token_version": 1 } },
  );
  if (matchedCount === 0) throw new AppError("INVALID_TOKEN");
};

/**
 * Changes the admin's password: the current one must be right (failures count toward the
 * lockout), and every earlier token stops working. Answers with a fresh token.
 */
export const changePassword = async (deps: Deps, principal: Principal, currentPassword: string, newPassword: string) => {
  const org = await checkPassword(deps, { _id: principal.orgId, "admin.token_version": principal.tokenVersion }, currentPassword, "INVALID_TOKEN");
  const fresh = await hashPassword(newPassword, deps.settings.pbkdf2Iterations);
  const { matchedCount } = await deps.organizations.updateOne(
    { _id: org._id, "admin.token_version": principal.tokenVersion },
    { $set: { "admin.password_hash": fresh }, $inc: { "admin.token_version": 1 } },
  );
  if (matchedCount === 0) throw new AppError("INVALID_TOKEN");
  return { access_token: await tokenFor(deps, org, principal.tokenVersion + 1), token_type: "bearer" as const, org };
};

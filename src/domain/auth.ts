import { ObjectId } from "bson";
import { ADMITS_CALLERS, admitsCallers } from "./admission";
import { AppError } from "./errors";
import { lockedForMs } from "./lockout";
import { attemptKey, clearFailures, countFailure } from "./login-attempts";
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
 * The one password check, behind every endpoint that takes a password (login, a rename
 * authorised by password, a password change): the per-client throttle first, then the attempt
 * is counted against the e-mail's lockout *before* the password is checked, then the hash.
 * Known and unknown e-mails take the same path (the same two round trips, a dummy hash of the
 * same cost for the unknown) and get the same answers, locked ones included.
 */
const checkPassword = async (
  deps: Deps,
  emailKey: string,
  password: string,
  findAdmin: () => Promise<OrganizationDoc | null>,
  failure: "INVALID_CREDENTIALS" | "INVALID_TOKEN",
): Promise<OrganizationDoc> => {
  const { pbkdf2Iterations: iterations, lockoutThreshold } = deps.settings;
  await deps.throttleCredentials?.();
  const key = await attemptKey(emailKey);
  const [before, org] = await Promise.all([countFailure(deps, key), findAdmin()]);
  const lockedMs = lockedForMs(before.failures, before.lastFailedAt, deps.now(), lockoutThreshold);
  if (lockedMs > 0) throw new AppError("ACCOUNT_LOCKED", undefined, lockedMs / 1000);
  const valid = await verifyPassword(password, org?.admin.password_hash ?? dummyHash(iterations));
  if (!org || !valid || !canLogIn(org)) throw new AppError(failure === "INVALID_TOKEN" && org && valid ? "INVALID_TOKEN" : "INVALID_CREDENTIALS");
  // A right password ends the run of failures even when refused below, so a suspension never turns into a lockout.
  deps.background((later) => afterSuccess(later, org, key, password));
  // Told only to whoever knows the password: the suspension is no oracle for a guesser.
  if (!admitsCallers(org)) throw new AppError("ORGANIZATION_SUSPENDED");
  return org;
};

/** Ends the run of failures and, for an old or cheaper hash, rewrites it at the configured cost. */
const afterSuccess = async (deps: Deps, org: OrganizationDoc, key: string, password: string): Promise<void> => {
  await clearFailures(deps, key);
  if (!needsRehash(org.admin.password_hash, deps.settings.pbkdf2Iterations)) return;
  const rehashed = await hashPassword(password, deps.settings.pbkdf2Iterations);
  await deps.organizations.updateOne({ _id: org._id, "admin.password_hash": org.admin.password_hash }, { $set: { "admin.password_hash": rehashed } });
};

/** Checks an admin's e-mail and password (login, and renames authorised by password). */
export const verifyCredentials = (deps: Deps, email: string, password: string): Promise<OrganizationDoc> => {
  const emailKey = normalizeEmail(email);
  return checkPassword(deps, emailKey, password, () => deps.organizations.findOne({ "admin.email_key": emailKey }), "INVALID_CREDENTIALS");
};

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
  // The lockout is the admin's e-mail's, shared with login: the token names the organization, so it is read first.
  const own = await deps.organizations.findOne({ _id: principal.orgId, "admin.token_version": principal.tokenVersion });
  if (!own) throw new AppError("INVALID_TOKEN");
  if (!admitsCallers(own)) throw new AppError("ORGANIZATION_SUSPENDED");
  const org = await checkPassword(deps, own.admin.email_key, currentPassword, async () => own, "INVALID_TOKEN");
  const fresh = await hashPassword(newPassword, deps.settings.pbkdf2Iterations);
  const { matchedCount } = await deps.organizations.updateOne(
    { _id: org._id, "admin.token_version": principal.tokenVersion, ...ADMITS_CALLERS },
    { $set: { "admin.password_hash": fresh }, $inc: { "admin.token_version": 1 } },
  );
  if (matchedCount === 0) throw new AppError("INVALID_TOKEN");
  return { access_token: await tokenFor(deps, org, principal.tokenVersion + 1), token_type: "bearer" as const, org };
};

import { ObjectId } from "bson";
import { DuplicateKeyError } from "../../data/errors";
import { accountTokenFor, type TokenAnswer } from "../auth/auth";
import { mailVerificationLink } from "../auth/verify-email";
import { admitsCallers } from "../kernel/admission";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { memberPath, normalizeEmail } from "../kernel/model";
import { isCurrent, principalOf } from "../kernel/principal";
import { type AccountClaims, verifyAccountToken } from "../kernel/tokens";
import { type Account, type AccountDoc, attemptKey, findAccount, hasAccount, USERS } from "./accounts";
import { hashPassword } from "./passwords";

/**
 * Sign-up: an account of its own, in no organization, so that a person can join one by their
 * address's domain (domains/joining.ts). Its address is unproven until the mailed link is followed,
 * and an unproven address joins nothing. The account stays while it belongs to no organization
 * (`signed_up_at`); an account opened by an organization's create or an invitation still closes
 * with its last membership.
 */
export interface SignedUp extends TokenAnswer {
  user_id: string;
  email: string;
  email_verified: false;
}

export const signUp = async (deps: Deps, email: string, password: string): Promise<SignedUp> => {
  await deps.throttleCredentials?.();
  const key = await attemptKey(normalizeEmail(email));
  const account: Account = {
    _id: key,
    user_id: new ObjectId(),
    email,
    password_hash: await hashPassword(password, deps.settings.pbkdf2Iterations),
    org_ids: [],
    signed_up_at: deps.now(),
    token_version: 0,
  };
  const { _id, ...fields } = account;
  try {
    // Keeps any lockout counter the address already has; an account already holding it refuses the upsert.
    await deps.data
      .collection<AccountDoc>(USERS)
      .updateOne({ _id: key, user_id: { $exists: false } }, { $set: fields, $setOnInsert: { failures: 0 } }, { upsert: true });
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new AppError("EMAIL_TAKEN");
    throw error;
  }
  mailVerificationLink(deps, account);
  return { user_id: account.user_id.toHexString(), email, email_verified: false, ...(await accountTokenFor(deps, account)) };
};

/**
 * The account a bearer token signs in: an account token (tokens.ts) while its version is the
 * account's, or a member's token while it is current in its organization. Any other: a 401.
 */
export const accountOfBearer = async (deps: Deps, token: string | null): Promise<Account> => {
  if (!token) throw new AppError("NOT_AUTHENTICATED");
  const claims = await verifyAccountToken(token, deps.settings.token, deps.now());
  if ("orgId" in claims) {
    const principal = principalOf(claims);
    const [own, account] = await Promise.all([
      deps.organizations.findOne({ _id: principal.orgId }, { projection: { [memberPath(principal.userId)]: 1, suspended: 1 } }),
      findAccount(deps, principal.userId),
    ]);
    if (!isCurrent(own, principal) || !hasAccount(account)) throw new AppError("INVALID_TOKEN");
    // The token of a suspended organization admits its member nowhere.
    if (own && !admitsCallers(own)) throw new AppError("ORGANIZATION_SUSPENDED");
    return account;
  }
  const account = ObjectId.isValid(claims.userId) && claims.userId.length === 24 ? await findAccount(deps, ObjectId.createFromHexString(claims.userId)) : null;
  if (!hasAccount(account) || (account.token_version ?? 0) !== claims.tokenVersion) throw new AppError("INVALID_TOKEN");
  return account;
};

/** The claims of an account token; null for anything else (a member's token, a key, a bad token), which the caller authenticates as usual. */
export const accountTokenClaims = async (deps: Deps, token: string | null): Promise<AccountClaims | null> => {
  if (!token) return null;
  const claims = await verifyAccountToken(token, deps.settings.token, deps.now()).catch(() => null);
  return claims && !("orgId" in claims) ? claims : null;
};

import { type Account, type AccountDoc, attemptKey, findAccount, hasAccount, USERS } from "../accounts/accounts";
import { hashPassword } from "../accounts/passwords";
import type { CarriedEvent } from "../events/carried";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor } from "../kernel/event";
import { memberPath, normalizeEmail } from "../kernel/model";
import { runForRequest } from "../kernel/operation";
import { enqueueMail } from "../mail/outbox";
import { passwordResetMessage } from "../mail/password-reset";
import { changePasswordOperation } from "./auth";

/**
 * Password reset: a one-time link mailed to the account's address. The store keeps only the link
 * token's SHA-256 (a read of the store cannot reset anyone's password), the token works once and for
 * RESET_TTL_MINUTES, and setting the password revokes every earlier token of the account.
 */
export const PASSWORD_RESETS = "password_resets";
export const RESET_TTL_MINUTES = 30;

export interface ResetDoc {
  [key: string]: unknown;
  /** The token's SHA-256, hex. */
  _id: string;
  user_id: Account["user_id"];
  expires_at: Date;
  used_at?: Date;
}

/** Expired links are removed by the cron (src/scheduled.ts): a link is refused once expired whether or not it is still stored. */
export const sweepExpiredResets = (deps: Deps, now: Date): Promise<number> => resets(deps).deleteMany({ expires_at: { $lte: now } });

const sha256 = async (text: string): Promise<string> =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");

const newToken = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
};

const resets = (deps: Deps) => deps.data.collection<ResetDoc>(PASSWORD_RESETS);

/**
 * Mails a reset link when the address has an account, and does nothing otherwise: meant to run
 * after the answer, so the caller learns nothing from the answer or its timing.
 */
export const requestPasswordReset = async (deps: Deps, email: string): Promise<void> => {
  const account = await deps.data.collection<AccountDoc>(USERS).findOne({ _id: await attemptKey(normalizeEmail(email)) });
  if (!hasAccount(account)) return;
  const token = newToken();
  await resets(deps).insertOne({ _id: await sha256(token), user_id: account.user_id, expires_at: new Date(deps.now().getTime() + RESET_TTL_MINUTES * 60_000) });
  await enqueueMail(deps, "password_reset", passwordResetMessage(deps.settings.mail, { email: account.email }, token, RESET_TTL_MINUTES));
};

/**
 * Sets a new password from a mailed link's token. The token is spent first (one atomic update, so
 * two confirmations of one link cannot both pass), then every access token of the account stops
 * working, in every organization, then the hash changes with its `admin.password_changed` event,
 * relayed as a password change's is. An unknown, spent or expired token: INVALID_TOKEN.
 */
export const confirmPasswordReset = async (deps: Deps, token: string, newPassword: string): Promise<void> => {
  const now = deps.now();
  const reset = await resets(deps).findOneAndUpdate(
    { _id: await sha256(token), used_at: { $exists: false }, expires_at: { $gt: now } },
    { $set: { used_at: now } },
  );
  const account = reset ? await findAccount(deps, reset.user_id) : null;
  if (!reset || !account) throw new AppError("INVALID_TOKEN");
  const fresh = await hashPassword(newPassword, deps.settings.pbkdf2Iterations);
  const tv = memberPath(account.user_id, "token_version");
  if (account.org_ids.length > 0)
    await deps.organizations.updateMany({ _id: { $in: account.org_ids }, [memberPath(account.user_id)]: { $exists: true } }, { $inc: { [tv]: 1 } });
  // Other links of the account mailed before this one stop working too.
  await resets(deps).updateMany({ user_id: account.user_id, used_at: { $exists: false } }, { $set: { used_at: now } });
  const changed: CarriedEvent = {
    org_ids: account.org_ids,
    event: newEvent("admin.password_changed", userActor({ userId: account.user_id }), { user_id: account.user_id.toHexString(), by: "reset" }, now),
  };
  const { matchedCount } = await deps.data
    .collection(USERS)
    .updateOne(
      { user_id: account.user_id, password_hash: account.password_hash },
      { $set: { password_hash: fresh, failures: 0 }, $push: { carried: changed } },
    );
  if (matchedCount > 0) await runForRequest(changePasswordOperation, deps, { carrier: account._id, carried: changed });
};

import { type AccountDoc, accountMailOperation, attemptKey, findAccount, hasAccount, USERS } from "../accounts/accounts";
import { hashPassword } from "../accounts/passwords";
import type { CarriedEvent } from "../events/carried";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor } from "../kernel/event";
import { normalizeEmail } from "../kernel/model";
import { runForRequest, runSteps } from "../kernel/operation";
import { carryMail } from "../mail/carried";
import { newMail } from "../mail/outbox";
import { passwordResetMessage } from "../mail/templates";
import { changePasswordOperation, passwordChangedMail, revokeTokens } from "./auth";
import { newLink, opens, readLink } from "./mailed-link";

/**
 * Password reset: a one-time link mailed to the account's address, valid RESET_TTL_MINUTES. The
 * link lives on the account (`password_reset`, its hash and expiry), so spending it and setting the
 * new password are one write: a crash before it leaves the link working, a crash after it leaves a
 * password change whose event the reconciler relays (the `password.change` operation), and two
 * confirmations of one link cannot both pass.
 */
export const RESET_TTL_MINUTES = 30;

/**
 * Mails a reset link when the address has an account, and does nothing otherwise. The mail
 * dispatcher runs it for a request queued by `POST /auth/password-reset` (mail/outbox.ts,
 * queueReset), so the caller learns nothing from the answer or its timing. A new link replaces an
 * earlier one.
 */
export const requestPasswordReset = async (deps: Deps, email: string): Promise<void> => {
  const users = deps.data.collection<AccountDoc>(USERS);
  const key = await attemptKey(normalizeEmail(email));
  const account = await users.findOne({ _id: key });
  if (!hasAccount(account) || !deps.settings.mail.sends) return;
  const { token, pending } = await newLink(account.user_id, new Date(deps.now().getTime() + RESET_TTL_MINUTES * 60_000));
  // The link and its message in one write: a link set is a link mailed (mail/carried.ts).
  const mail = newMail(deps, "password_reset", passwordResetMessage(deps.settings.mail, { email: account.email }, token, RESET_TTL_MINUTES));
  const { matchedCount } = await users.updateOne({ _id: key, user_id: account.user_id }, { $set: { password_reset: pending }, $push: carryMail(mail) });
  if (matchedCount > 0 && mail) await runSteps(accountMailOperation, deps, { carrier: key, mail });
};

/**
 * Sets a new password from a mailed link's token. Every access token of the account stops working
 * first, in every organization (a crash there leaves the old password, the link still open and no
 * live token); then one write spends the link, sets the hash, clears the lockout (the mailbox was
 * proven) and carries the `admin.password_changed` event, relayed as a password change's is.
 * A malformed, unknown, replaced, spent or expired token: LINK_INVALID.
 */
export const confirmPasswordReset = async (deps: Deps, token: string, newPassword: string): Promise<void> => {
  const link = await readLink(token);
  const account = link ? await findAccount(deps, link.userId) : null;
  if (!link || !account || !opens(account.password_reset, link.hash, deps.now())) throw new AppError("LINK_INVALID");
  const fresh = await hashPassword(newPassword, deps.settings.pbkdf2Iterations);
  await revokeTokens(deps, account.user_id, account.org_ids);
  const changed: CarriedEvent = {
    org_ids: account.org_ids,
    event: newEvent("admin.password_changed", userActor({ userId: account.user_id }), { user_id: account.user_id.toHexString(), by: "reset" }, deps.now()),
  };
  const notice = passwordChangedMail(deps, account.email);
  const { matchedCount } = await deps.data.collection(USERS).updateOne(
    { _id: account._id, user_id: account.user_id, "password_reset.hash": link.hash, password_hash: account.password_hash },
    {
      $set: { password_hash: fresh, failures: 0 },
      $inc: { token_version: 1 },
      $unset: { password_reset: "" },
      $push: { carried: changed, ...carryMail(notice) },
    },
  );
  if (matchedCount === 0) throw new AppError("LINK_INVALID");
  await runForRequest(changePasswordOperation, deps, { carrier: account._id, carried: changed });
  if (notice) await runForRequest(accountMailOperation, deps, { carrier: account._id, mail: notice });
};

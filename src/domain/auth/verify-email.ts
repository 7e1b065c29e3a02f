import { type Account, type AccountDoc, accountMailOperation, hasAccount, USERS } from "../accounts/accounts";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { runSteps } from "../kernel/operation";
import { carryMail } from "../mail/carried";
import { newMail } from "../mail/outbox";
import { verifyEmailMessage } from "../mail/templates";
import { newLink, readLink } from "./mailed-link";

/**
 * Address verification: a signed-in member asks for a link mailed to their account's address, and
 * following it marks the account `email_verified`. The confirmation is one guarded write (the link
 * matches, is open, and goes with the same update), so it has no step a crash could split and two
 * confirmations of one link cannot both pass.
 */
export const VERIFY_TTL_MINUTES = 24 * 60;

/** "sent", or "verified" when the address already is (then nothing is mailed). */
export const requestEmailVerification = (deps: Deps, account: Account): "sent" | "verified" => {
  if (!deps.settings.mail.sends) throw new AppError("MAIL_DISABLED");
  if (account.email_verified) return "verified";
  mailVerificationLink(deps, account);
  return "sent";
};

/** After the answer: a new link (replacing any earlier one), set on the account with its message in one write. */
export const mailVerificationLink = (deps: Deps, account: Account): void => {
  if (!deps.settings.mail.sends) return;
  deps.background(async (after) => {
    const { token, pending } = await newLink(account.user_id, new Date(after.now().getTime() + VERIFY_TTL_MINUTES * 60_000));
    // The link and its message in one write: a link set is a link mailed (mail/carried.ts).
    const mail = newMail(after, "email_verification", verifyEmailMessage(after.settings.mail, { email: account.email }, token, VERIFY_TTL_MINUTES));
    const { matchedCount } = await after.data
      .collection<AccountDoc>(USERS)
      .updateOne({ _id: account._id, user_id: account.user_id }, { $set: { email_verification: pending }, $push: carryMail(mail) });
    if (matchedCount > 0 && mail) await runSteps(accountMailOperation, after, { carrier: account._id, mail });
  });
};

/** Marks the address of the account a mailed link names as verified and answers the account; LINK_INVALID for any other token. */
export const confirmEmailVerification = async (deps: Deps, token: string): Promise<Account> => {
  const link = await readLink(token);
  const account = link
    ? await deps.data
        .collection<AccountDoc>(USERS)
        .findOneAndUpdate(
          { user_id: link.userId, "email_verification.hash": link.hash, "email_verification.expires_at": { $gt: deps.now() } },
          { $set: { email_verified: true }, $unset: { email_verification: "" } },
          { returnNewDocument: true },
        )
    : null;
  if (!hasAccount(account)) throw new AppError("LINK_INVALID");
  return account;
};

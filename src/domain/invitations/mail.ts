import type { ObjectId } from "bson";
import { hashSecret } from "../kernel/api-key-secret";
import type { Deps } from "../kernel/deps";
import { idSecret } from "../kernel/one-time-secret";
import { MAIL_OUTBOX, type MailDoc, newMail, type QueuedMail } from "../mail/outbox";
import { invitationMessage } from "../mail/templates";

/**
 * An invitation mailed to its address. The mailed link carries a secret of its own, apart from the
 * token answered to the inviter: accepting with it proves the address is the accepter's, so it
 * verifies the account's address, which the inviter's token cannot. It is an `idSecret` of the
 * invitation's id, so an accept finds the invitation by its id; the invitation keeps only the
 * SHA-256 of the whole token.
 */
export const mailedHash = (id: ObjectId, random: string): Promise<string> => hashSecret(idSecret(id, random));

/** The delivery of an invitation's mail, as its inviter sees it. */
export interface Delivery {
  status: MailDoc["status"];
  attempts: number;
  last_error: string | null;
}

/** The invitation's message, to carry on the invitation (mail/carried.ts); null without a transport. */
export const invitationMail = (
  deps: Deps,
  invitation: { _id: ObjectId; org_id: ObjectId; email: string; expires_at: Date },
  random: string,
  from: { inviter: string; organization: string },
): QueuedMail | null =>
  newMail(
    deps,
    "invitation",
    invitationMessage(deps.settings.mail, { email: invitation.email }, idSecret(invitation._id, random), { ...from, expiresAt: invitation.expires_at }),
    { org_id: invitation.org_id },
  );

/** Each listed invitation's delivery: one read of the outbox for the page, none when nothing was mailed. */
export const deliveriesOf = async (deps: Deps, docs: { mail_id?: ObjectId }[]): Promise<Map<string, Delivery>> => {
  const ids = docs.flatMap((doc) => (doc.mail_id ? [doc.mail_id] : []));
  if (ids.length === 0) return new Map();
  const mails = await deps.data.collection<MailDoc>(MAIL_OUTBOX).find({ _id: { $in: ids } }, { projection: { status: 1, attempts: 1, last_error: 1 } });
  return new Map(mails.map((m) => [m._id.toHexString(), { status: m.status, attempts: m.attempts, last_error: m.last_error ?? null }]));
};

import { ObjectId } from "bson";
import { DuplicateKeyError } from "../../data/errors";
import type { IndexSpec } from "../../dataapi/engine";
import type { Deps } from "../kernel/deps";
import { nextAttemptAt } from "../webhooks/schedule";
import type { MailMessage } from "./message";

/**
 * The mail outbox: messages waiting to be sent, in the master database, so a restart, a deploy or a
 * mail server that is down loses none of them. A message reaches it from the document whose change
 * asked for it (carried.ts), after that request's answer; the mail dispatcher (src/mail-dispatcher.ts)
 * sends from it on its alarm and retries on the webhook schedule (webhooks/schedule.ts): a day of
 * attempts, then the message is marked failed.
 */
export const MAIL_OUTBOX = "mail_outbox";

/** Messages waiting at once; past it a new one is stored as failed (and logged), so a flood cannot grow the sending work without end. */
export const MAX_PENDING_MAIL = 1000;
/** How long a sent or failed message's status stays readable. */
export const MAIL_RETENTION_DAYS = 7;
/** How long after a reset request the dispatcher looks the address up: drawn at random between these. */
export const RESET_DELAY_MS = { min: 250, max: 1000 } as const;
/** Messages one run sends before it yields to the next alarm. */
const BATCH = 20;

export type MailKind = "invitation" | "password_reset" | "password_changed" | "email_verification";
export type MailStatus = "pending" | "sent" | "failed";

export interface MailDoc {
  [key: string]: unknown;
  _id: ObjectId;
  kind: MailKind;
  /** The message itself while it waits; emptied once it is sent or given up, as it may carry a one-time link. */
  message: MailMessage | null;
  /** The organization a message is about (an invitation's): its deletion removes the message, sent or not. */
  org_id?: ObjectId;
  /** Instead of a message, the address a password reset was asked for: the dispatcher writes the message, if any (queueReset). */
  reset_for?: string;
  status: MailStatus;
  attempts: number;
  next_at: Date;
  created_at: Date;
  /** When the status last changed: sent and failed messages expire from here. */
  at: Date;
  last_error?: string;
}

export const MAIL_INDEXES: IndexSpec[] = [
  { key: { status: 1, next_at: 1 }, name: "status_next" },
  { key: { at: 1 }, name: "at_ttl", expireAfterSeconds: MAIL_RETENTION_DAYS * 86_400 },
];

const outbox = (deps: Deps) => deps.data.collection<MailDoc>(MAIL_OUTBOX);

/**
 * A message on its way to the outbox: made by the change that asks for it and carried on the
 * document that change writes, in the same write (carried.ts), so that it is queued whatever
 * happens after that write. Its id is the outbox document's, chosen here: queueing it twice finds
 * it there.
 */
export interface QueuedMail {
  id: ObjectId;
  kind: MailKind;
  message: MailMessage;
  at: Date;
  org_id?: ObjectId;
}

/** A message to carry, or null when no transport is configured: then nothing is stored, as nothing would ever send it. */
export const newMail = (deps: Deps, kind: MailKind, message: MailMessage, about?: { org_id: ObjectId }): QueuedMail | null =>
  deps.settings.mail.sends ? { id: new ObjectId(), kind, message, at: deps.now(), ...about } : null;

/**
 * Adds a message to the outbox and wakes the dispatcher; a message already there (queued by an
 * earlier run of the same step) is left as it is. Past MAX_PENDING_MAIL waiting messages it is
 * stored as failed, without its content, so the bound holds and whoever asked for it sees why it
 * never left (an invitation's delivery status); it is logged too.
 */
export const queueMail = async (deps: Deps, mail: QueuedMail): Promise<void> => {
  const now = deps.now();
  const full = (await outbox(deps).countDocuments({ status: "pending" })) >= MAX_PENDING_MAIL;
  if (full) console.error(JSON.stringify({ msg: "mail outbox full; message not sent", mail_id: mail.id.toHexString(), kind: mail.kind }));
  const about = mail.org_id ? { org_id: mail.org_id } : {};
  const doc: MailDoc = full
    ? {
        _id: mail.id,
        kind: mail.kind,
        message: null,
        status: "failed",
        attempts: 0,
        next_at: now,
        created_at: mail.at,
        at: now,
        last_error: OUTBOX_FULL,
        ...about,
      }
    : { _id: mail.id, kind: mail.kind, message: mail.message, status: "pending", attempts: 0, next_at: now, created_at: mail.at, at: now, ...about };
  try {
    await outbox(deps).insertOne(doc);
  } catch (error) {
    if (error instanceof DuplicateKeyError) return;
    throw error;
  }
  if (!full) deps.wakeMail?.();
};

/** The error a message refused by the outbox's bound carries. */
export const OUTBOX_FULL = "not sent: too many messages were waiting";

/**
 * Asks the dispatcher to mail a password reset link to `email` if it has an account. The request
 * that asks does this and nothing else after its answer, whether or not the address is known: the
 * lookup, the link and the message happen in the dispatcher's run (sendDueMail's `compose`), so
 * what a caller can time is the same for every address. That run comes a random quarter to whole
 * second later (RESET_DELAY_MS), so its work, which does depend on the address, falls on no
 * request in particular: on one machine (workerd self-hosted) the dispatcher shares a thread with
 * the requests. Counted against the outbox's bound; past it the request is dropped and logged.
 */
export const queueReset = async (deps: Deps, email: string): Promise<void> => {
  if (!deps.settings.mail.sends) return;
  if ((await outbox(deps).countDocuments({ status: "pending" })) >= MAX_PENDING_MAIL) {
    console.error(JSON.stringify({ msg: "mail outbox full; password reset request dropped" }));
    return;
  }
  const now = deps.now();
  const next_at = new Date(now.getTime() + RESET_DELAY_MS.min + Math.random() * (RESET_DELAY_MS.max - RESET_DELAY_MS.min));
  const doc: MailDoc = {
    _id: new ObjectId(),
    kind: "password_reset",
    message: null,
    reset_for: email,
    status: "pending",
    attempts: 0,
    next_at,
    created_at: now,
    at: now,
  };
  await outbox(deps).insertOne(doc);
  deps.wakeMail?.();
};

/** The delivery status of one message, for whoever asked for it to be sent. */
export const mailStatus = async (deps: Deps, id: ObjectId): Promise<Pick<MailDoc, "status" | "attempts" | "last_error"> | null> =>
  outbox(deps).findOne({ _id: id }, { projection: { status: 1, attempts: 1, last_error: 1 } });

/**
 * Sends the messages that are due, oldest first, one at a time, and writes those asked for by
 * address (`compose`, which queues what it writes; the request is then removed). A failure is
 * recorded on the message (attempts, the error, the next attempt's time) and logged, never thrown:
 * the next message still goes. Returns when to run again: the earliest pending message's time, or
 * null when none waits.
 */
export const sendDueMail = async (
  deps: Deps,
  send: (message: MailMessage) => Promise<void>,
  compose: (resetFor: string) => Promise<void> = async () => {},
): Promise<Date | null> => {
  const due = await outbox(deps).find({ status: "pending", next_at: { $lte: deps.now() } }, { sort: { next_at: 1 }, limit: BATCH });
  for (const mail of due) {
    try {
      if (mail.reset_for !== undefined) {
        // Removed once written: a crash in between writes it again, and the newer link replaces the first.
        await compose(mail.reset_for);
        await outbox(deps).deleteOne({ _id: mail._id, status: "pending" });
        continue;
      }
      if (!mail.message) continue;
      await send(mail.message);
      await outbox(deps).updateOne({ _id: mail._id, status: "pending" }, { $set: { status: "sent", message: null, at: deps.now() }, $inc: { attempts: 1 } });
    } catch (error) {
      const attempts = mail.attempts + 1;
      const now = deps.now();
      const next = nextAttemptAt(attempts, now, { jitter: 0.2 });
      const delay = next && Math.max(0, Math.round((next.getTime() - now.getTime()) / deps.settings.webhooks.scheduleDivisor));
      const lastError = String(error).slice(0, 300);
      console.error(
        JSON.stringify({
          msg: next ? "mail send failed; retrying later" : "mail send failed; giving up",
          mail_id: mail._id.toHexString(),
          kind: mail.kind,
          attempts,
          error: lastError,
        }),
      );
      await outbox(deps).updateOne(
        { _id: mail._id, status: "pending" },
        delay === null
          ? { $set: { status: "failed", message: null, attempts, last_error: lastError, at: now } }
          : { $set: { attempts, last_error: lastError, next_at: new Date(now.getTime() + delay) } },
      );
    }
  }
  const [first] = await outbox(deps).find({ status: "pending" }, { sort: { next_at: 1 }, limit: 1, projection: { next_at: 1 } });
  return first ? first.next_at : null;
};

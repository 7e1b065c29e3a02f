import type { ObjectId } from "bson";
import { DuplicateKeyError } from "../../data/errors";
import type { IndexSpec } from "../../dataapi/engine";
import type { CarriedEvent } from "../events/carried";
import type { Deps } from "../kernel/deps";
import type { JoinRequest } from "../kernel/model";
import { carriedMailOperation } from "../mail/carried";
import type { QueuedMail } from "../mail/outbox";

/**
 * One document per e-mail a caller has named, in the master database's `users` collection,
 * keyed by a SHA-256 of the normalised e-mail (so every key has one size and a counter alone
 * holds no address). It carries two things that must be read together in one round trip:
 *
 * - the lockout counter: failed password checks, counted *before* each check, for every e-mail
 *   whether or not an account has it (counting only known accounts made a locked account answer
 *   429 where an unknown e-mail answered 401 forever, which told the two apart);
 * - the account, while the person belongs to at least one organization: their user id, e-mail,
 *   password hash and the organizations they belong to. The `_id` makes the e-mail a
 *   reservation: two accounts can never share one, in any spelling.
 *
 * So a login is one call here (count and read the account) and one to the organization.
 */
export const USERS = "users";

/** Mail to an account's holder (a reset link, a verification link, a notice), carried on the account until it is in the outbox. */
export const accountMailOperation = carriedMailOperation({ kind: "account.mail", collection: USERS });

export interface AccountDoc {
  [key: string]: unknown;
  _id: string;
  /** Failed checks since the last success. */
  failures?: number;
  last_failed_at?: Date;
  /** Present while an account exists. */
  user_id?: ObjectId;
  email?: string;
  password_hash?: string;
  /**
   * The organizations the account belongs to, or is joining or leaving: a superset of its
   * memberships (added before a membership, removed after it), so an account never vanishes
   * while it still belongs somewhere.
   */
  org_ids?: ObjectId[];
  /** Set when `org_ids` gained an organization whose membership is not yet confirmed; the reconciler prunes after a crash. */
  joining_at?: Date;
  /** Events of this account's changes (a password change) not yet relayed to its organizations (events/carried.ts). */
  carried?: CarriedEvent[];
  /** Mail on its way to the outbox (mail/carried.ts). */
  carried_mail?: QueuedMail[];
  /** True once the holder proved the address is theirs (a mailed link followed); absent: not proven. */
  email_verified?: true;
  /** The open password reset link, if any (auth/password-reset.ts). */
  password_reset?: PendingLink;
  /** The open address verification link, if any (auth/verify-email.ts). */
  email_verification?: PendingLink;
  /** Opened by sign-up (accounts/signup.ts): the account stays while it belongs to no organization. */
  signed_up_at?: Date;
  /** Raised by a password change or reset: account tokens issued before stop working (kernel/tokens.ts). */
  token_version?: number;
  /** A join by domain under way (domains/joining.ts): its marker. */
  domain_join?: DomainJoinMark;
}

/** A join by domain under way: which organization, how, and as what (domains/joining.ts). */
export interface DomainJoinMark {
  org_id: ObjectId;
  at: Date;
  role: "member" | "admin";
  /** `auto_join`: by the domain's policy (its id); `approval`: an admin approved the account's request. */
  via: "auto_join" | "approval";
  domain_id?: ObjectId;
  domain: string;
  approved_by?: ObjectId;
  /**
   * The account's request to join as the organization held it when the join began, if it had one:
   * it goes with the member, pulled by its exact value (FerretDB's `$pull` matches whole elements only).
   */
  request?: JoinRequest;
  /**
   * An approver whose `member:invite` comes from a role of the organization's own: their token
   * version and the roles' revision as the approval read them, which the update adding the member checks.
   */
  approver_standing?: { token_version: number; roles_rev?: number };
}

/** A mailed one-time link's hash and expiry, kept on the account it opens (auth/mailed-link.ts). */
export interface PendingLink {
  hash: string;
  expires_at: Date;
}

export type Account = AccountDoc & Required<Pick<AccountDoc, "user_id" | "email" | "password_hash" | "org_ids">>;

export const hasAccount = (doc: AccountDoc | null | undefined): doc is Account => doc?.user_id !== undefined && typeof doc.password_hash === "string";

/**
 * How long a silent counter is kept: well beyond the longest lock (64 minutes), so forgetting
 * never shortens one. Counters without an account older than this are swept by the cron; a
 * stale counter met before that is started over in place.
 */
export const FORGET_AFTER_SECONDS = 24 * 60 * 60;

export const USER_INDEXES: IndexSpec[] = [
  { key: { user_id: 1 }, name: "user_id" },
  { key: { last_failed_at: 1 }, name: "last_failed_at" },
];

/** The document's key: the same for every spelling of one e-mail. */
export const attemptKey = async (emailKey: string): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(emailKey)));
  let hex = "";
  for (const byte of digest) hex += (byte < 16 ? "0" : "") + byte.toString(16);
  return hex;
};

export interface PriorFailures {
  /** When this attempt was counted (the counter's `last_failed_at` now): clearing is guarded by it. */
  countedAt: Date;
  failures: number;
  lastFailedAt?: Date;
  /** The account as it was when the attempt was counted, if the e-mail has one. */
  account?: Account;
}

const forgetBefore = (now: Date): Date => new Date(now.getTime() - FORGET_AFTER_SECONDS * 1000);

/** A run of failures nobody has added to for longer than counters are kept: it is forgotten, not continued. */
const isStale = (doc: AccountDoc | null, now: Date): doc is AccountDoc & { failures: number } =>
  !!doc && (doc.failures ?? 0) > 0 && !!doc.last_failed_at && doc.last_failed_at <= forgetBefore(now);

const priorOf = (before: AccountDoc | null, countedAt: Date): PriorFailures => ({
  countedAt,
  failures: before?.failures ?? 0,
  ...(before?.last_failed_at ? { lastFailedAt: before.last_failed_at } : {}),
  ...(hasAccount(before) ? { account: before } : {}),
});

/**
 * Counts one attempt as a failure, atomically, and answers what the document held before it:
 * parallel guesses each see a different count, so none slips past the lockout, and the account
 * comes in the same round trip. The filter is the key alone, so a first attempt (an insert) and a
 * later one (an update) cost the store alike: with any other condition FerretDB's upserting
 * insert reads the collection, which made an unknown e-mail's count slower than a known one's.
 * A stale run is forgotten by taking its failures back off in one more round trip (commutative,
 * so attempts counted meanwhile stay counted; skipped if a success cleared the count meanwhile).
 */
export const countFailure = async (deps: Deps, key: string): Promise<PriorFailures> => {
  const now = deps.now();
  const users = deps.data.collection<AccountDoc>(USERS);
  const count = () => users.findOneAndUpdate({ _id: key }, { $inc: { failures: 1 }, $set: { last_failed_at: now } }, { upsert: true });
  let before: AccountDoc | null;
  try {
    before = await count();
  } catch (error) {
    // A parallel first attempt inserted the document first: count on it.
    if (!(error instanceof DuplicateKeyError)) throw error;
    before = await count();
  }
  if (isStale(before, now)) {
    await users.updateOne({ _id: key, failures: { $gte: before.failures } }, { $inc: { failures: -before.failures } });
    const { last_failed_at: _, ...rest } = before;
    return priorOf({ ...rest, failures: 0 }, now);
  }
  return priorOf(before, now);
};

/**
 * After a success the run of failures is over: a counter alone goes, an account keeps its
 * document with the count at zero. Only if no failure was counted since this attempt: a later
 * one (a guess racing the success) keeps counting toward the lock.
 */
export const clearFailures = async (deps: Deps, key: string, countedAt: Date, held: "an account" | "unknown"): Promise<void> => {
  const users = deps.data.collection<AccountDoc>(USERS);
  const unchanged = { _id: key, last_failed_at: countedAt };
  // One call when the count found an account (every login): its count goes to zero, and were the
  // account closed meanwhile, so would the counter left behind, which the daily sweep removes.
  if (held === "an account") {
    await users.updateOne(unchanged, { $set: { failures: 0 } });
    return;
  }
  // An e-mail without an account may have opened one since (accepting an invitation does).
  await Promise.all([
    users.deleteOne({ ...unchanged, user_id: { $exists: false } }),
    users.updateOne({ ...unchanged, user_id: { $exists: true } }, { $set: { failures: 0 } }),
  ]);
};

/** Removes counters nobody has touched for a day; accounts stay. */
export const sweepStaleAttempts = (deps: Deps, now: Date): Promise<number> =>
  deps.data.collection<AccountDoc>(USERS).deleteMany({ last_failed_at: { $lte: forgetBefore(now) }, user_id: { $exists: false } });

/**
 * Takes an e-mail for a new account, keeping any counter the e-mail already has. Null when an
 * account already holds it (the unique `_id` refuses the upsert).
 */
export const openAccount = async (
  deps: Deps,
  key: string,
  account: { user_id: ObjectId; email: string; password_hash: string; org_id: ObjectId },
): Promise<boolean> => {
  try {
    await deps.data.collection<AccountDoc>(USERS).updateOne(
      { _id: key, user_id: { $exists: false } },
      {
        $set: { user_id: account.user_id, email: account.email, password_hash: account.password_hash, org_ids: [account.org_id], joining_at: deps.now() },
        $setOnInsert: { failures: 0 },
      },
      { upsert: true },
    );
    return true;
  } catch (error) {
    if (error instanceof DuplicateKeyError) return false;
    throw error;
  }
};

/**
 * Adds an organization the account is joining (before the membership exists). Null when the
 * account is gone, or, for an account token's `tokenVersion`, no longer at that version.
 */
export const joinAccount = (deps: Deps, userId: ObjectId, orgId: ObjectId, tokenVersion?: number): Promise<Account | null> =>
  deps.data
    .collection<AccountDoc>(USERS)
    .findOneAndUpdate(
      { user_id: userId, ...(tokenVersion === undefined ? {} : { token_version: tokenVersion === 0 ? { $in: [null, 0] } : tokenVersion }) },
      { $addToSet: { org_ids: orgId }, $set: { joining_at: deps.now() } },
      { returnNewDocument: true },
    ) as Promise<Account | null>;

/**
 * Removes an organization from accounts after their memberships ended, closing the accounts left
 * with none (their e-mails are free again; a deleted organization leaves nothing of its people
 * behind, not even a counter). Idempotent: the last step of a removal, a leave and a delete, and
 * the reconciler's. One round trip when every account had only this organization, the usual case.
 */
/** The accounts a departure may close: not one opened by sign-up, nor one joining an organization by domain. */
const KEPT_EMPTY = { signed_up_at: { $exists: false }, domain_join: { $exists: false } };

export const leaveAccounts = async (deps: Deps, userIds: ObjectId[], orgId: ObjectId): Promise<void> => {
  const [only] = userIds;
  if (!only) return;
  const users = deps.data.collection<AccountDoc>(USERS);
  const whose = userIds.length === 1 ? { user_id: only } : { user_id: { $in: userIds } };
  const closed = await users.deleteMany({ ...whose, org_ids: [orgId], ...KEPT_EMPTY });
  if (closed === userIds.length) return;
  if (userIds.length === 1) {
    const after = await users.findOneAndUpdate(whose, { $pull: { org_ids: orgId } }, { returnNewDocument: true });
    // Emptied meanwhile by another departure: close it now.
    if (after && (after.org_ids ?? []).length === 0) await users.deleteOne({ ...whose, org_ids: { $size: 0 }, ...KEPT_EMPTY });
    return;
  }
  await users.updateMany(whose, { $pull: { org_ids: orgId } });
  await users.deleteMany({ ...whose, org_ids: { $size: 0 }, ...KEPT_EMPTY });
};

export const findAccount = (deps: Deps, userId: ObjectId): Promise<Account | null> =>
  deps.data.collection<AccountDoc>(USERS).findOne({ user_id: userId }) as Promise<Account | null>;

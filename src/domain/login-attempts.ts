import { DuplicateKeyError } from "../data/errors";
import type { IndexSpec } from "../dataapi/engine";
import type { Deps } from "./organization";

/**
 * Failed password checks per e-mail, for the lockout. Every e-mail a caller names is counted
 * here, whether or not an admin has it: counting only known accounts made a locked account
 * answer 429 where an unknown e-mail answered 401 forever, which told the two apart. The key
 * is a SHA-256 of the normalised e-mail, so the collection holds no addresses and every key
 * has one size.
 */
export const LOGIN_ATTEMPTS = "login_attempts";

export interface LoginAttemptDoc {
  [key: string]: unknown;
  _id: string;
  /** Failed checks since the last success, counted before each check. */
  failures: number;
  last_failed_at: Date;
}

/**
 * How long a silent counter is kept: well beyond the longest lock (64 minutes), so expiry
 * never shortens one. It bounds storage to the e-mails tried in the last day: a TTL index
 * removes older counters where the store has TTL indexes, the cron sweep does elsewhere
 * (FerretDB), and a stale counter met before either is started over in place.
 */
export const FORGET_AFTER_SECONDS = 24 * 60 * 60;

export const LOGIN_ATTEMPT_INDEXES: IndexSpec[] = [{ key: { last_failed_at: 1 }, name: "last_failed_at_ttl", expireAfterSeconds: FORGET_AFTER_SECONDS }];

/** The counter's key: the same for every spelling of one e-mail that logs in as one admin. */
export const attemptKey = async (emailKey: string): Promise<string> => {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(emailKey));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
};

export interface PriorFailures {
  failures: number;
  lastFailedAt?: Date;
}

const forgetBefore = (now: Date): Date => new Date(now.getTime() - FORGET_AFTER_SECONDS * 1000);

/**
 * Counts one attempt as a failure, atomically, and answers what the counter held before it:
 * parallel guesses each see a different count, so none slips past the lockout. One round trip;
 * two more when the counter is stale or a parallel first attempt created it meanwhile.
 */
export const countFailure = async (deps: Deps, key: string): Promise<PriorFailures> => {
  const now = deps.now();
  const attempts = deps.data.collection<LoginAttemptDoc>(LOGIN_ATTEMPTS);
  // Only a live counter matches; for a stale one the upsert collides with its _id.
  const live = { _id: key, last_failed_at: { $gt: forgetBefore(now) } };
  const bump = { $inc: { failures: 1 }, $set: { last_failed_at: now } };
  const count = () => attempts.findOneAndUpdate(live, bump, { upsert: true });
  let before: LoginAttemptDoc | null;
  try {
    before = await count();
  } catch (error) {
    if (!(error instanceof DuplicateKeyError)) throw error;
    await attempts.updateOne({ _id: key, last_failed_at: { $lte: forgetBefore(now) } }, { $set: { failures: 0, last_failed_at: now } });
    before = await count();
  }
  return before ? { failures: before.failures, lastFailedAt: before.last_failed_at } : { failures: 0 };
};

/** After a success: the consecutive failures are over. */
export const clearFailures = (deps: Deps, key: string): Promise<number> => deps.data.collection<LoginAttemptDoc>(LOGIN_ATTEMPTS).deleteOne({ _id: key });

/** Removes counters nobody has touched for a day, for stores without TTL indexes. */
export const sweepStaleAttempts = (deps: Deps, now: Date): Promise<number> =>
  deps.data.collection<LoginAttemptDoc>(LOGIN_ATTEMPTS).deleteMany({ last_failed_at: { $lte: forgetBefore(now) } });

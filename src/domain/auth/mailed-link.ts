import type { ObjectId } from "bson";
import type { PendingLink } from "../accounts/accounts";
import { hashSecret } from "../kernel/api-key-secret";
import { idSecret, randomSecret, readIdSecret } from "../kernel/one-time-secret";

/**
 * The one-time secret of a mailed link (a password reset, an address verification): an `idSecret`
 * of the account's user id, which lets the confirmation find the account by its index. The account
 * keeps only the token's SHA-256 beside its expiry, so a read of the store cannot use a link, and a
 * new link replaces the one before it.
 */
export const newLink = async (userId: ObjectId, expiresAt: Date): Promise<{ token: string; pending: PendingLink }> => {
  const token = idSecret(userId, randomSecret());
  return { token, pending: { hash: await hashSecret(token), expires_at: expiresAt } };
};

/** The account a token names and the hash it must match; null for anything not shaped as one. */
export const readLink = async (token: string): Promise<{ userId: ObjectId; hash: string } | null> => {
  const read = await readIdSecret(token);
  return read && { userId: read.id, hash: read.hash };
};

/** Whether a stored link is this token's and still open at `now`. */
export const opens = (pending: PendingLink | undefined, hash: string, now: Date): boolean =>
  pending !== undefined && pending.hash === hash && pending.expires_at > now;

import { ObjectId } from "bson";
import { base64url } from "jose";
import type { PendingLink } from "../accounts/accounts";
import { hashSecret } from "../kernel/api-key-secret";

/**
 * The one-time secret of a mailed link (a password reset, an address verification): the account's
 * user id, which lets the confirmation find the account by its index without a scan, then 32 random
 * bytes. The account keeps only the SHA-256 of the whole token beside its expiry, so a read of the
 * store cannot use a link, and a new link replaces the one before it.
 */

const FORM = /^([0-9a-f]{24})([A-Za-z0-9_-]{43})$/;

export const newLink = async (userId: ObjectId, expiresAt: Date): Promise<{ token: string; pending: PendingLink }> => {
  const token = `${userId.toHexString()}${base64url.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { token, pending: { hash: await hashSecret(token), expires_at: expiresAt } };
};

/** The account a token names and the hash it must match; null for anything not shaped as one. */
export const readLink = async (token: string): Promise<{ userId: ObjectId; hash: string } | null> => {
  const match = FORM.exec(token);
  if (!match?.[1]) return null;
  return { userId: ObjectId.createFromHexString(match[1]), hash: await hashSecret(token) };
};

/** Whether a stored link is this token's and still open at `now`. */
export const opens = (pending: PendingLink | undefined, hash: string, now: Date): boolean =>
  pending !== undefined && pending.hash === hash && pending.expires_at > now;

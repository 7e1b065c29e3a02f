/**
 * Account lockout: after `threshold` consecutive failed logins an account refuses logins for a
 * window that doubles with every further failure, from 1 minute up to 64 minutes, counted from
 * the last failure. Attempts made while locked count as failures too, so hammering a locked
 * account keeps it locked; a successful login resets the count.
 */
const FIRST_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 64 * 60_000;

export const lockoutWindowMs = (failures: number, threshold: number): number =>
  failures < threshold ? 0 : Math.min(FIRST_WINDOW_MS * 2 ** (failures - threshold), MAX_WINDOW_MS);

/** Milliseconds the account stays locked, 0 when it is not. */
export const lockedForMs = (failures: number, lastFailedAt: Date | undefined, now: Date, threshold: number): number => {
  // Below the threshold nothing is locked, even when a concurrent attempt stamped a later time than `now`.
  if (!lastFailedAt || failures < threshold) return 0;
  return Math.max(0, lastFailedAt.getTime() + lockoutWindowMs(failures, threshold) - now.getTime());
};

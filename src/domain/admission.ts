/**
 * Whether an organization admits its own callers at all: a suspended one does not. Every guard
 * that lets an admin in (login's check, the token-authenticated routes, the record lease, record
 * reads, rename and delete by the admin) uses one of these two forms, so that a new condition on
 * admission (roles, members) is added here once.
 */

/** The part of a store filter that every admitting guard adds. */
export const ADMITS_CALLERS = { suspended: { $ne: true } } as const;

/** The same condition on a document already read. */
export const admitsCallers = (org: { suspended?: unknown }): boolean => org.suspended !== true;

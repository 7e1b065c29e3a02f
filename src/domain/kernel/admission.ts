/**
 * Whether an organization admits its own callers at all: a suspended one does not. Every guard
 * that lets a member in (login's check, the token-authenticated routes, the record and invitation
 * write lease, record reads, rename and delete, membership changes, the member and invitation
 * lists, switching organizations, accepting an invitation) uses one of these two forms, so that a
 * new condition on admission is added here once. Logging out only revokes, and takes neither.
 */

/** The part of a store filter that every admitting guard adds. */
export const ADMITS_CALLERS = { suspended: { $ne: true } } as const;

/** The same condition on a document already read. */
export const admitsCallers = (org: { suspended?: unknown }): boolean => org.suspended !== true;

import type { Deps } from "./deps";
import { AppError } from "./errors";
import { refusal, writable } from "./guard";
import { type MemberRecord, memberOf, type OrganizationDoc } from "./model";
import type { Principal } from "./principal";

/** How often a change is tried again from a new read when another change came between. */
const ATTEMPTS = 4;

/** What a change decided on a read applies: its update, any guard beyond the revision, and its answer. */
export interface Plan<T> {
  guard?: Record<string, unknown>;
  update: Record<string, unknown>;
  result: T;
}

/**
 * A change of many paths of the organization's document at once (its roles, its teams), decided on
 * one read of it: `plan` refuses, or names the update, which applies only while the caller may
 * still change the organization and `rev` (which every such change raises) is as read. Another
 * change coming between sends it back to read again; after a few, ORGANIZATION_BUSY.
 */
export const changeAgainstRead = async <T>(
  deps: Deps,
  principal: Principal,
  rev: "roles_rev" | "teams_rev",
  plan: (org: OrganizationDoc, actor: MemberRecord) => Plan<T>,
): Promise<T> => {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const org = await deps.organizations.findOne({ _id: principal.orgId });
    const refused = refusal(org, principal);
    if (refused || !org) throw refused ?? new AppError("INVALID_TOKEN");
    const { guard, update, result } = plan(org, memberOf(org, principal.userId) as MemberRecord);
    const { matchedCount } = await deps.organizations.updateOne({ ...writable(principal), [rev]: org[rev] ?? { $exists: false }, ...guard }, update);
    if (matchedCount > 0) return result;
  }
  throw new AppError("ORGANIZATION_BUSY");
};

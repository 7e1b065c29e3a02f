import type { ObjectId } from "bson";
import type { Deps } from "./deps";
import type { EventState } from "./event";
import { writable } from "./guard";
import type { OrganizationDoc, WriteLeases } from "./model";
import type { Caller } from "./principal";

/**
 * Write leases fence record writes against the operations that move or drop a tenant collection.
 * (A record insert is fenced by the store instead, in one call: `insertOneFenced`, which on the
 * gateway takes a lease of this kind inside the call; replaces, deletes and invitations lease here.)
 *
 * A record write learns its organization's collection in one step and writes to it in the next.
 * Without a fence, a rename or delete can run in between, and the write lands in the collection
 * after it moved or was dropped: MongoDB then creates an empty collection of the old name and
 * puts the record there, lost to its organization, or left behind by a delete. So:
 *
 * 1. A writer takes a lease in the same guarded update that authorises it (the organization must
 *    be `active` and admit callers: not suspended): `write_leases.<id> = until`. The write must be applied by `until`: the store
 *    itself refuses to begin an action whose `deadline` has passed.
 * 2. A rename or delete first marks the organization (`renaming`/`deleting`), which stops new
 *    leases, then waits until every lease it saw is released, or expired by more than the clock
 *    skew allowed between the Worker and the store. Only then does it move or drop the collection.
 *
 * So every write that a store applied landed before the collection moved, on any interleaving and
 * across crashes: a writer that dies leaves a lease that only expires. Each step is one atomic
 * single-document update, which MongoDB and FerretDB give without transactions.
 */

/** How much the Worker's and the store's clocks may disagree; a lease counts until this long past its expiry. */
export const CLOCK_SKEW_MS = 2_000;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 200;

const isLive = (until: Date, now: number): boolean => until.getTime() + CLOCK_SKEW_MS > now;

/** Record and invitation writers hold `write_leases`; event publishers `publish_leases`, which only a delete waits for. */
export type LeaseField = "write_leases" | "publish_leases";

const leaseKey = (id: string, field: LeaseField) => `${field}.${id}`;

const newLeaseId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
};

export interface WriteLease {
  org: Pick<OrganizationDoc, "_id" | "collection_name" | "members">;
  /** The write must be applied before this instant; it is sent to the store as the action's deadline. */
  until: Date;
  /** Gives the lease back after the answer; also clears leases that expired for good (their writers died). */
  release: () => void;
  /** The same as an `$unset`, for a writer that ends with an update of the organization anyway. */
  unset: Record<string, "">;
}

/**
 * Authorises a write to the organization's data (records, invitations) and takes a lease in one atomic update: the organization must be
 * active, admit callers (not suspended) and the token current. Null when the guard does not match (the caller says why).
 */
export const acquireWriteLease = async (
  deps: Deps,
  principal: Caller,
  /** More for the same update: an invitation marks the organization as having some, and reads its members; a webhook reads its event count. */
  extra: { set?: Record<string, unknown>; members?: true; fields?: Record<string, 1> } = {},
): Promise<(WriteLease & { org: Partial<EventState> }) | null> =>
  takeLease(deps, writable(principal), { collection_name: 1, ...(extra.members ? { members: 1 } : {}), ...extra.fields }, extra.set);

/**
 * A lease for publishing the organization's events (events/outbox.ts), taken only when its outbox holds
 * some: a delete then waits for the publisher before it removes the events. Active organizations
 * only, as for record writes, so a rename (which clears leases as it finishes) never has one to
 * lose; a suspended organization's events are still published.
 */
export const acquireEventLease = (deps: Deps, orgId: ObjectId): Promise<(WriteLease & { org: EventState }) | null> =>
  takeLease(
    deps,
    { _id: orgId, status: "active", "outbox.0": { $exists: true } },
    { outbox: 1, event_seq: 1, has_webhooks: 1 },
    {},
    "publish_leases",
  ) as Promise<(WriteLease & { org: EventState }) | null>;

const takeLease = async (
  deps: Deps,
  guard: Record<string, unknown>,
  projection: Record<string, 1>,
  set: Record<string, unknown> = {},
  field: LeaseField = "write_leases",
): Promise<WriteLease | null> => {
  const id = newLeaseId();
  const now = deps.now().getTime();
  const until = new Date(now + deps.settings.data.timeoutMs);
  const org = (await deps.organizations.findOneAndUpdate(
    guard,
    { $set: { [leaseKey(id, field)]: until, ...set } },
    { returnNewDocument: true, projection: { ...projection, [field]: 1 } },
  )) as (Pick<OrganizationDoc, "_id" | "collection_name" | "members"> & Partial<Record<LeaseField, WriteLeases>>) | null;
  if (!org) return null;
  // Leases past expiry and skew belong to writers that died: their writes can no longer apply.
  const dead = Object.entries(org[field] ?? {})
    .filter(([other, expiry]) => other !== id && !isLive(expiry, now))
    .map(([other]) => other);
  const unset = Object.fromEntries([id, ...dead].map((lease) => [leaseKey(lease, field), ""])) as Record<string, "">;
  const release = () => deps.background((background) => background.organizations.updateOne({ _id: org._id }, { $unset: unset }));
  return { org, until, release, unset };
};

/**
 * Waits until no writer can still apply a write to the organization's collection: every lease is
 * released or expired (plus skew). Called after the organization was marked `renaming` or
 * `deleting`, so no new lease can be taken meanwhile. `known` is the lease set of the organization
 * document the marking update returned, which saves the first read (and, with no writer, every read).
 */
export const drainWriters = async (deps: Deps, orgId: ObjectId, known: WriteLeases = {}, field: LeaseField = "write_leases"): Promise<void> => {
  let leases: WriteLeases | undefined = known;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    if (leases === undefined) {
      const org = (await deps.organizations.findOne({ _id: orgId }, { projection: { [field]: 1 } })) as Partial<Record<LeaseField, WriteLeases>> | null;
      leases = org?.[field] ?? {};
    }
    const now = deps.now().getTime();
    const live = Object.values(leases).filter((until) => isLive(until, now));
    if (live.length === 0) return;
    const longest = Math.max(...live.map((until) => until.getTime() + CLOCK_SKEW_MS - now));
    await deps.sleep(Math.min(pause, longest));
    leases = undefined;
  }
};

import type { ObjectId } from "bson";
import { ADMITS_CALLERS } from "./admission";
import { currentToken, type Principal } from "./auth";
import type { Deps, OrganizationDoc } from "./organization";

/**
 * Write leases fence record writes against the operations that move or drop a tenant collection.
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

export type WriteLeases = Record<string, Date>;

const isLive = (until: Date, now: number): boolean => until.getTime() + CLOCK_SKEW_MS > now;

const leaseKey = (id: string) => `write_leases.${id}`;

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
}

/**
 * Authorises a write to the organization's data (records, invitations) and takes a lease in one atomic update: the organization must be
 * active, admit callers (not suspended) and the token current. Null when the guard does not match (the caller says why).
 */
export const acquireWriteLease = async (
  deps: Deps,
  principal: Principal,
  /** More for the same update: an invitation marks the organization as having some, and reads its members. */
  extra: { set?: Record<string, unknown>; members?: true } = {},
): Promise<WriteLease | null> => {
  const id = newLeaseId();
  const now = deps.now().getTime();
  const until = new Date(now + deps.settings.data.timeoutMs);
  const org = (await deps.organizations.findOneAndUpdate(
    { _id: principal.orgId, status: "active", ...currentToken(principal), ...ADMITS_CALLERS },
    { $set: { [leaseKey(id)]: until, ...extra.set } },
    { returnNewDocument: true, projection: { collection_name: 1, write_leases: 1, ...(extra.members ? { members: 1 } : {}) } },
  )) as (Pick<OrganizationDoc, "_id" | "collection_name" | "members"> & { write_leases?: WriteLeases }) | null;
  if (!org) return null;
  // Leases past expiry and skew belong to writers that died: their writes can no longer apply.
  const dead = Object.entries(org.write_leases ?? {})
    .filter(([other, expiry]) => other !== id && !isLive(expiry, now))
    .map(([other]) => other);
  const release = () =>
    deps.background((later) =>
      later.organizations.updateOne({ _id: org._id }, { $unset: Object.fromEntries([id, ...dead].map((lease) => [leaseKey(lease), ""])) }),
    );
  return { org, until, release };
};

/**
 * Waits until no writer can still apply a write to the organization's collection: every lease is
 * released or expired (plus skew). Called after the organization was marked `renaming` or
 * `deleting`, so no new lease can be taken meanwhile. `known` is the lease set of the organization
 * document the marking update returned, which saves the first read (and, with no writer, every read).
 */
export const drainWriters = async (deps: Deps, orgId: ObjectId, known: WriteLeases = {}): Promise<void> => {
  let leases: WriteLeases | undefined = known;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    if (leases === undefined) {
      const org = (await deps.organizations.findOne({ _id: orgId }, { projection: { write_leases: 1 } })) as { write_leases?: WriteLeases } | null;
      leases = org?.write_leases ?? {};
    }
    const now = deps.now().getTime();
    const live = Object.values(leases).filter((until) => isLive(until, now));
    if (live.length === 0) return;
    const longest = Math.max(...live.map((until) => until.getTime() + CLOCK_SKEW_MS - now));
    await deps.sleep(Math.min(pause, longest));
    leases = undefined;
  }
};

import type { Deps } from "../kernel/deps";
import type { PlatformStatus } from "./listing";

export interface PlatformStats {
  /** The master database's bytes in storage (data and indexes), null when the store cannot tell. */
  storage_bytes: number | null;
  organizations: {
    total: number;
    /** What the listing's `status` filter finds for each value: `suspended` counts across lifecycle statuses, `active` excludes it. */
    by_status: Record<PlatformStatus, number>;
  };
}

/**
 * How long the counts wait for the store's size: FerretDB works it out collection by collection,
 * seconds with thousands of tenants. Past this, or on any failure, the size is null: a hint, never
 * a reason for the counts to fail (nor retried: the store would only do the same work again).
 */
const STORAGE_WAIT_MS = 2_000;

/** Counts, each answered from an index by equality (taken one beside the other, so a count may be a moment apart from the next). */
export const platformStats = async (deps: Deps): Promise<PlatformStats> => {
  const count = (filter: Record<string, unknown>) => deps.organizations.countDocuments(filter);
  const [storage_bytes, active, suspendedActive, suspended, creating, renaming, deleting] = await Promise.all([
    Promise.race([deps.data.storageBytes().catch(() => null), deps.sleep(STORAGE_WAIT_MS).then(() => null)]),
    count({ status: "active" }),
    count({ status: "active", suspended: true }),
    count({ suspended: true }),
    count({ status: "creating" }),
    count({ status: "renaming" }),
    count({ status: "deleting" }),
  ]);
  return {
    storage_bytes,
    organizations: {
      total: active + creating + renaming + deleting,
      by_status: { active: active - suspendedActive, suspended, creating, renaming, deleting },
    },
  };
};

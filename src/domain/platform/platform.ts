import { ObjectId } from "bson";
import { publishLater } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, withEvents } from "../kernel/event";
import { drainWriters } from "../kernel/leases";
import type { OrganizationDoc, OrgStatus, Suspension } from "../kernel/model";
import { runForRequest } from "../kernel/operation";
import type { Role } from "../kernel/roles";
import { deleteOperation, markDeleting } from "../organizations/operations";
import { slugify } from "../organizations/slug";

/**
 * The platform operator's view of every organization: list and search, inspect, suspend,
 * reactivate, delete, count. The operator is not a member of any organization: these functions take
 * no principal, the HTTP layer has checked the operator's key and its scope.
 */

export const PLATFORM_STATUSES = ["active", "suspended", "creating", "renaming", "deleting"] as const;
export type PlatformStatus = (typeof PLATFORM_STATUSES)[number];
export const PLATFORM_SORTS = ["name", "-name", "created_at", "-created_at"] as const;
export type PlatformSort = (typeof PLATFORM_SORTS)[number];

export const DEFAULT_PLATFORM_PAGE = 50;
export const MAX_PLATFORM_PAGE = 200;

/** Where a page resumes: the last organization's sort key and id, for the sort it was read in. */
export interface PlatformCursor {
  sort: PlatformSort;
  slug?: string;
  createdAt?: number;
  id: ObjectId;
}

export const encodePlatformCursor = (cursor: PlatformCursor): string =>
  btoa(JSON.stringify({ s: cursor.sort, k: cursor.slug ?? cursor.createdAt, i: cursor.id.toHexString() }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/** The cursor a page handed out, or null for anything this service never issued. */
export const decodePlatformCursor = (text: string): PlatformCursor | null => {
  if (text.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const value = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/"))) as { s?: unknown; k?: unknown; i?: unknown };
    if (!PLATFORM_SORTS.includes(value.s as PlatformSort) || typeof value.i !== "string" || !/^[0-9a-f]{24}$/.test(value.i)) return null;
    const sort = value.s as PlatformSort;
    const id = ObjectId.createFromHexString(value.i);
    if (sort.endsWith("name")) return typeof value.k === "string" ? { sort, slug: value.k, id } : null;
    return typeof value.k === "number" && Number.isSafeInteger(value.k) ? { sort, createdAt: value.k, id } : null;
  } catch {
    return null;
  }
};

export interface ListQuery {
  /** A name prefix or a slug prefix: matched as a prefix of the slug (the name's normal form). */
  query?: string;
  status?: PlatformStatus;
  sort: PlatformSort;
  limit: number;
  cursor?: PlatformCursor;
}

export interface OrganizationSummary {
  id: string;
  organization_name: string;
  slug: string;
  status: OrgStatus;
  suspended: boolean;
  created_at: string;
  updated_at: string;
}

export interface OrganizationPage {
  organizations: OrganizationSummary[];
  next_cursor: string | null;
}

const summaryOf = (org: OrganizationDoc): OrganizationSummary => ({
  id: org._id.toHexString(),
  organization_name: org.organization_name,
  slug: org.slug,
  status: org.status,
  suspended: org.suspended === true,
  created_at: org.created_at.toISOString(),
  updated_at: org.updated_at.toISOString(),
});

/**
 * The first slug past every slug that starts with `prefix`: slugs are `[a-z0-9_]`, and `{` is
 * the character after `z`, so `[prefix, prefix + "{")` is exactly the prefix's range.
 */
const prefixEnd = (prefix: string) => `${prefix}{`;

/** The status filter as stored: suspension is a field of its own beside the lifecycle status. */
const statusFilter = (status: PlatformStatus | undefined): Record<string, unknown> => {
  if (status === undefined) return {};
  if (status === "suspended") return { suspended: true };
  if (status === "active") return { status: "active", suspended: { $ne: true } };
  return { status };
};

const SORTS: Record<PlatformSort, Record<string, 1 | -1>> = {
  name: { slug: 1 },
  "-name": { slug: -1 },
  created_at: { created_at: 1, _id: 1 },
  "-created_at": { created_at: -1, _id: -1 },
};

/**
 * One page, in one query that every store answers from an index: the status filter pins the
 * leading field of a compound index (`status_*` or `suspended_*`), the order is the index's, the
 * name prefix and the cursor are a range on its first sorted field. In name order (the slug,
 * unique) the cursor is the last slug; in creation order it is (created_at, _id), `_id` breaking
 * ties, written as a range on created_at plus the tie condition so the range bounds the read.
 */
export const pageQuery = (query: ListQuery): { filter: Record<string, unknown>; sort: Record<string, 1 | -1> } => {
  const filter: Record<string, unknown> = { ...statusFilter(query.status) };
  const byName = query.sort.endsWith("name");
  const descending = query.sort.startsWith("-");
  if (query.query !== undefined) {
    const prefix = slugify(query.query);
    filter.slug = { $gte: prefix, $lt: prefixEnd(prefix) };
  }
  const after = query.cursor;
  if (after && byName && after.slug !== undefined) {
    filter.slug = { ...(filter.slug as object), [descending ? "$lt" : "$gt"]: after.slug };
  }
  if (after && !byName && after.createdAt !== undefined) {
    const at = new Date(after.createdAt);
    filter.created_at = { [descending ? "$lte" : "$gte"]: at };
    filter.$or = [{ created_at: { [descending ? "$lt" : "$gt"]: at } }, { _id: { [descending ? "$lt" : "$gt"]: after.id } }];
  }
  return { filter, sort: SORTS[query.sort] };
};

export const listOrganizations = async (deps: Deps, query: ListQuery): Promise<OrganizationPage> => {
  const { filter, sort } = pageQuery(query);
  const byName = query.sort.endsWith("name");
  const docs = await deps.organizations.find(filter, {
    sort,
    limit: query.limit + 1,
    projection: { write_leases: 0, members: 0, departures: 0, pending: 0, suspension: 0 },
  });
  const shown = docs.slice(0, query.limit);
  const last = shown.at(-1);
  const next =
    docs.length > query.limit && last
      ? encodePlatformCursor(
          byName ? { sort: query.sort, slug: last.slug, id: last._id } : { sort: query.sort, createdAt: last.created_at.getTime(), id: last._id },
        )
      : null;
  return { organizations: shown.map(summaryOf), next_cursor: next };
};

/** The people of an organization as the operator sees them: those who manage it (owners and admins), and how many members it has. */
export interface PeopleView {
  admins: { id: string; email: string; role: Role }[];
  member_count: number;
}

export const peopleOf = (org: Pick<OrganizationDoc, "members">): PeopleView => {
  const members = Object.values(org.members ?? {});
  return {
    admins: members
      .filter((m) => m.role === "owner" || m.role === "admin")
      // Owners first, then by e-mail: the same order on every read.
      .sort((a, b) => (a.role === b.role ? (a.email_key < b.email_key ? -1 : a.email_key > b.email_key ? 1 : 0) : a.role === "owner" ? -1 : 1))
      .map((m) => ({ id: m.user_id.toHexString(), email: m.email, role: m.role })),
    member_count: members.length,
  };
};

export interface OrganizationDetail extends OrganizationSummary, PeopleView {
  collection_name: string;
  suspension: { at: string; reason: string; by_key_id: string } | null;
  /** Null while a rename moves the collection or a delete drops it: the count would describe neither. */
  record_count: number | null;
  pending: { op: string; started_at: string; failed_at?: string; error?: string } | null;
}

const suspensionView = (s: Suspension | undefined) => (s ? { at: s.at.toISOString(), reason: s.reason, by_key_id: s.by_key_id } : null);

const pendingView = (org: OrganizationDoc): OrganizationDetail["pending"] => {
  const pending = org.pending as (OrganizationDoc["pending"] & { failed_at?: Date; error?: string }) | undefined;
  if (!pending) return null;
  return {
    op: pending.op,
    started_at: pending.started_at.toISOString(),
    ...(pending.failed_at ? { failed_at: pending.failed_at.toISOString() } : {}),
    ...(pending.error ? { error: pending.error } : {}),
  };
};

const detailOf = (org: OrganizationDoc, recordCount: number | null): OrganizationDetail => ({
  ...summaryOf(org),
  collection_name: org.collection_name,
  ...peopleOf(org),
  suspension: suspensionView(org.suspension),
  record_count: recordCount,
  pending: pendingView(org),
});

/** An id from a path: anything that is not 24 hexadecimal digits names no organization. */
export const organizationIdOf = (text: string): ObjectId => {
  if (!/^[0-9a-fA-F]{24}$/.test(text)) throw new AppError("ORGANIZATION_NOT_FOUND");
  return ObjectId.createFromHexString(text.toLowerCase());
};

const countRecords = (deps: Deps, org: OrganizationDoc): Promise<number | null> =>
  org.status === "active" ? deps.data.collection(org.collection_name).countDocuments({ org_id: org._id }) : Promise.resolve(null);

export const inspectOrganization = async (deps: Deps, id: ObjectId): Promise<OrganizationDetail> => {
  const org = await deps.organizations.findOne({ _id: id }, { projection: { write_leases: 0 } });
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  return detailOf(org, await countRecords(deps, org));
};

/**
 * Suspends: marks the organization (whatever its lifecycle status, which carries on), then waits
 * out the record writes (and invitation creates and revokes) that took their lease before the mark, so that after the
 * answer no record write of the organization can still land. Login, tokens, records, membership
 * changes, invitations and the members' rename and delete are refused from the mark on (admission.ts). Suspending a suspended organization
 * changes nothing and answers the same: the first reason and time stay.
 */
export const suspendOrganization = async (deps: Deps, id: ObjectId, reason: string, keyId: string): Promise<OrganizationDetail> => {
  const now = deps.now();
  const suspended = newEvent("organization.suspended", { type: "operator", key_id: keyId }, { reason }, now);
  const marked = await deps.organizations.findOneAndUpdate(
    { _id: id, suspended: { $ne: true } },
    withEvents({ $set: { suspended: true, suspension: { at: now, reason, by_key_id: keyId }, updated_at: now } }, suspended),
    { returnNewDocument: true },
  );
  if (marked) publishLater(deps, id);
  const org = marked ?? (await deps.organizations.findOne({ _id: id }));
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  // Already suspended: the leases of the document just read, in case the first suspension is still draining them.
  await drainWriters(deps, id, org.write_leases ?? {});
  const { write_leases: _leases, ...rest } = org;
  return detailOf(rest as OrganizationDoc, await countRecords(deps, org));
};

/** Lifts a suspension (recording `organization.reactivated`); an organization not suspended is answered as it is, unchanged. */
export const reactivateOrganization = async (deps: Deps, id: ObjectId, keyId: string): Promise<OrganizationDetail> => {
  const now = deps.now();
  const reactivated = newEvent("organization.reactivated", { type: "operator", key_id: keyId }, {}, now);
  const lifted = await deps.organizations.findOneAndUpdate(
    { _id: id, suspended: true },
    withEvents({ $unset: { suspended: "", suspension: "" }, $set: { updated_at: now } }, reactivated),
    { returnNewDocument: true, projection: { write_leases: 0 } },
  );
  if (lifted) publishLater(deps, id);
  const org = lifted ?? (await deps.organizations.findOne({ _id: id }, { projection: { write_leases: 0 } }));
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  return detailOf(org, await countRecords(deps, org));
};

/**
 * An owner's delete, started by the operator: mark `deleting` (from `active` only: another
 * operation in flight is a 409, as for an owner), then the same resumable steps (the collection,
 * the members' accounts, the invitations, the organization), which the reconciler finishes after a crash. A suspended organization can be deleted; it stays suspended
 * until it is gone.
 */
export const removeOrganization = async (deps: Deps, id: ObjectId, keyId: string): Promise<{ organization_name: string }> => {
  const org = await markDeleting(deps, { _id: id }, { type: "operator", key_id: keyId });
  if (!org) {
    const exists = await deps.organizations.findOne({ _id: id }, { projection: { _id: 1 } });
    throw new AppError(exists ? "ORGANIZATION_BUSY" : "ORGANIZATION_NOT_FOUND");
  }
  await runForRequest(deleteOperation, deps, org);
  return { organization_name: org.organization_name };
};

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

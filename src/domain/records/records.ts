import { ObjectId } from "bson";
import type { Collection, FindOptions } from "../../data/client";
import type { Doc } from "../../dataapi/engine";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { whyRefused, writable } from "../kernel/guard";
import { acquireWriteLease } from "../kernel/leases";
import { ORGANIZATIONS } from "../kernel/model";
import type { Caller } from "../kernel/principal";
import { encodeCursor } from "./cursor";

/** Records may be larger than the other endpoints' bodies; this bounds one request, not the store. */
export const RECORD_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

export type RecordFields = Record<string, unknown>;

/**
 * One record in its organization's collection. The caller's fields sit under `data`, so they can
 * never collide with the server's. `org_id` is checked by every query: even if a collection ever
 * changed hands (a request authorised just before its organization was deleted and the name
 * re-created, or an orphaned collection adopted by a new organization), no record of one
 * organization can be read, replaced or deleted through another's token.
 */
export interface RecordDoc {
  [key: string]: unknown;
  _id: ObjectId;
  org_id: ObjectId;
  created_at: Date;
  updated_at: Date;
  data: RecordFields;
}

export type RecordView = RecordFields & { id: string; created_at: string; updated_at: string };

export interface RecordPage {
  records: RecordView[];
  next_cursor: string | null;
}

const viewOf = (doc: RecordDoc): RecordView => ({
  id: doc._id.toHexString(),
  ...doc.data,
  created_at: doc.created_at.toISOString(),
  updated_at: doc.updated_at.toISOString(),
});

interface Tenant {
  orgId: ObjectId;
  records: Collection<RecordDoc>;
}

/**
 * Reads the caller's records in one store call: the store finds them in the collection the
 * organization names, once the organization lets the caller in (`findFenced`: the token current,
 * the organization active and admitting callers; while a rename moves the collection, record
 * calls wait rather than reach the wrong one). Why it did not, read again on that path only.
 */
const readRecords = async (deps: Deps, principal: Caller, filter: Doc, options: FindOptions): Promise<RecordDoc[]> => {
  const fence = { collection: ORGANIZATIONS, filter: writable(principal), target: "collection_name" };
  const docs = await deps.data.findFenced<RecordDoc>(fence, { ...filter, org_id: principal.orgId }, options);
  if (docs === null) throw await whyRefused(deps, principal);
  return docs;
};

/**
 * Runs a record write under a write lease (see kernel/leases.ts): authorisation and the lease are
 * one round trip, like the read above, and the write carries the lease's deadline to the store, so
 * it can never land in a collection that a rename or delete has since moved or dropped.
 */
const withWriteLease = async <T>(deps: Deps, principal: Caller, write: (tenant: Tenant) => Promise<T>): Promise<T> => {
  const lease = await acquireWriteLease(deps, principal);
  if (!lease) throw await whyRefused(deps, principal);
  try {
    return await write({ orgId: lease.org._id, records: deps.data.collection<RecordDoc>(lease.org.collection_name, { deadline: lease.until }) });
  } finally {
    lease.release();
  }
};

/**
 * One store call: the record goes into the collection the organization's document names, in one
 * step with the check that authorises it (the token current, the organization active and admitting
 * callers), so no rename or delete can come between (`insertOneFenced`; a store that cannot do
 * both at once fences the insert with a write lease, kernel/leases.ts).
 */
export const createRecord = async (deps: Deps, principal: Caller, data: RecordFields): Promise<RecordView> => {
  const now = deps.now();
  // The store assigns `_id`: one store process hands out increasing ObjectIds, which keeps records
  // inserted during a pagination after the cursor better than ids minted by many isolates would.
  const fields = { org_id: principal.orgId, created_at: now, updated_at: now, data };
  const fence = { collection: ORGANIZATIONS, filter: writable(principal), target: "collection_name", lease: "write_leases" };
  const insertedId = await deps.data.insertFenced(fence, fields, new Date(now.getTime() + deps.settings.data.timeoutMs));
  if (insertedId === null) throw await whyRefused(deps, principal);
  if (!(insertedId instanceof ObjectId)) throw new Error("the store assigned a record id that is not an ObjectId");
  return viewOf({ _id: insertedId, ...fields });
};

/** Pages in `_id` order, resuming after the cursor's id: each record that exists throughout is returned exactly once. */
export const listRecords = async (deps: Deps, principal: Caller, page: { limit: number; after?: ObjectId }): Promise<RecordPage> => {
  // One record more than asked tells whether another page exists without a second query.
  const docs = await readRecords(deps, principal, page.after ? { _id: { $gt: page.after } } : {}, { sort: { _id: 1 }, limit: page.limit + 1 });
  const shown = docs.slice(0, page.limit);
  const last = shown.at(-1);
  return { records: shown.map(viewOf), next_cursor: docs.length > page.limit && last ? encodeCursor(last._id) : null };
};

export const getRecord = async (deps: Deps, principal: Caller, id: ObjectId): Promise<RecordView> => {
  const [doc] = await readRecords(deps, principal, { _id: id }, { limit: 1 });
  if (!doc) throw new AppError("RECORD_NOT_FOUND");
  return viewOf(doc);
};

/** Replaces the caller's fields in one atomic step that keeps `id` and `created_at` without reading them first. */
export const replaceRecord = (deps: Deps, principal: Caller, id: ObjectId, data: RecordFields): Promise<RecordView> =>
  withWriteLease(deps, principal, async ({ orgId, records }) => {
    const doc = await records.findOneAndUpdate({ _id: id, org_id: orgId }, { $set: { data, updated_at: deps.now() } }, { returnNewDocument: true });
    if (!doc) throw new AppError("RECORD_NOT_FOUND");
    return viewOf(doc);
  });

export const deleteRecord = (deps: Deps, principal: Caller, id: ObjectId): Promise<void> =>
  withWriteLease(deps, principal, async ({ orgId, records }) => {
    if ((await records.deleteOne({ _id: id, org_id: orgId })) === 0) throw new AppError("RECORD_NOT_FOUND");
  });

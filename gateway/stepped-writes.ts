import type { Collection } from "mongodb";
import { isPlainObject } from "../src/dataapi/ejson";
import type { Doc, UpdateSpec } from "../src/dataapi/engine";
import type { Budget } from "./budget";

/** Runs one write in its turn of the gateway's write queue, within the action's budget. */
export type QueuedWrite = <T>(work: () => Promise<T>) => Promise<T>;

/** FerretDB updates one document in about 5 to 20 ms on two busy cores; a step stays well under a second. */
const UPDATE_STEP = 50;
/** Deletes are about a hundred times cheaper there. */
const DELETE_STEP = 2_000;

/*
 * FerretDB ignores maxTimeMS on writes, and its updateMany slows down with the number of
 * documents (2,000 took 19 s here), so one multi-document write would hold the write queue, and
 * SQLite's lock, long past every deadline. On FerretDB the gateway therefore lists the matching
 * `_id`s first (a read, which FerretDB does stop at maxTimeMS) and writes them in steps, each its
 * own turn in the queue: other writes get in between, and once the budget is spent no further
 * step starts. The caller then hears 503 with the steps so far applied, which is what MongoDB
 * leaves behind when maxTimeMS interrupts an updateMany. A document inserted after the listing is
 * not touched, as it may not be by MongoDB's yielding updateMany either.
 */

const matchingIds = async (coll: Collection<Doc>, filter: Doc, budget: Budget): Promise<unknown[]> =>
  (await coll.find(filter, { projection: { _id: 1 }, ...budget.maxTime() }).toArray()).map((d) => d._id);

/**
 * The `_id`s a filter names outright (`_id: {$in: [...]}`, the service's writes to a few
 * organizations), which stand in for the listing: each step's write carries the whole filter, so
 * a named document that does not match is left alone. FerretDB's SQLite backend narrows a query
 * only by a filter that is `_id` alone, so listing read every document of the collection, as the
 * write itself does once more.
 */
const namedIds = (filter: Doc): unknown[] | undefined => {
  const id = filter._id;
  return isPlainObject(id) && Object.keys(id).length === 1 && Array.isArray(id.$in) ? id.$in : undefined;
};

const steps = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The caller's filter, narrowed to one step's documents: a document changed since the listing must still match it. */
const within = (filter: Doc, ids: unknown[]): Doc => ({ $and: [filter, { _id: { $in: ids } }] });

/** The driver's UpdateResult, as much of it as the engine reads. */
type Counts = { matchedCount: number; modifiedCount: number; upsertedId: unknown };

export const updateManyInSteps = async (coll: Collection<Doc>, spec: UpdateSpec, budget: Budget, write: QueuedWrite): Promise<Counts> => {
  // An upsert needs to know whether anything matched, which only the listing tells.
  const ids = (spec.upsert ? undefined : namedIds(spec.filter)) ?? (await matchingIds(coll, spec.filter, budget));
  // Nothing matched, or none named: one ordinary write, which upserts when asked to and has the server judge the filter.
  if (ids.length === 0) return write(() => coll.updateMany(spec.filter, spec.update, { upsert: spec.upsert, ...budget.maxTime() }));
  const total: Counts = { matchedCount: 0, modifiedCount: 0, upsertedId: null };
  for (const step of steps(ids, UPDATE_STEP)) {
    const result = await write(() => coll.updateMany(within(spec.filter, step), spec.update, budget.maxTime()));
    total.matchedCount += result.matchedCount;
    total.modifiedCount += result.modifiedCount;
  }
  return total;
};

export const deleteManyInSteps = async (coll: Collection<Doc>, filter: Doc, budget: Budget, write: QueuedWrite): Promise<number> => {
  const named = namedIds(filter);
  // None named: one write all the same, so that the server still judges the filter as the listing did.
  if (named?.length === 0) return (await write(() => coll.deleteMany(filter, budget.maxTime()))).deletedCount;
  let deleted = 0;
  for (const step of steps(named ?? (await matchingIds(coll, filter, budget)), DELETE_STEP)) {
    deleted += (await write(() => coll.deleteMany(within(filter, step), budget.maxTime()))).deletedCount;
  }
  return deleted;
};

import type { ObjectId } from "bson";
import type { Collection } from "../../data/client";
import { DuplicateKeyError } from "../../data/errors";
import { INVITATIONS } from "../invitations/invitations";
import type { Deps } from "../kernel/deps";
import { freeSlots, slotKey } from "../kernel/slots";
import { MAX_WEBHOOKS, WEBHOOKS } from "../webhooks/endpoints";

const BATCH = 500;

/**
 * Gives every document stored before slots existed a free slot of its organization, so the limit
 * counts it. An organization already past its limit (an older version let parallel creates through)
 * keeps its extra documents without a slot: still listed and removable, never blocking the index.
 * Each step is a guarded update, so isolates running it together, or creates meanwhile, only retry.
 */
export const assignSlots = async (collection: Collection, max: number): Promise<number> => {
  let assigned = 0;
  const full: ObjectId[] = [];
  for (;;) {
    const batch = await collection.find(
      { slot: { $exists: false }, ...(full.length ? { org_id: { $nin: full } } : {}) },
      { projection: { org_id: 1 }, sort: { _id: 1 }, limit: BATCH },
    );
    const byOrg = new Map<string, { orgId: ObjectId; ids: ObjectId[] }>();
    for (const doc of batch) {
      const orgId = doc.org_id as ObjectId;
      const group = byOrg.get(orgId.toHexString()) ?? { orgId, ids: [] };
      group.ids.push(doc._id as ObjectId);
      byOrg.set(orgId.toHexString(), group);
    }
    for (const { orgId, ids } of byOrg.values()) {
      const free = await freeSlots(collection, orgId, max);
      for (const id of ids) {
        for (let n = free.shift(); n !== undefined; n = free.shift()) {
          try {
            const { matchedCount } = await collection.updateOne({ _id: id, slot: { $exists: false } }, { $set: { slot: slotKey(orgId, n) } });
            if (matchedCount > 0) assigned++;
            // Kept for the next document when this one got a slot meanwhile.
            else free.unshift(n);
            break;
          } catch (error) {
            if (!(error instanceof DuplicateKeyError)) throw error;
          }
        }
        if (free.length === 0) break;
      }
      if (free.length === 0) full.push(orgId);
    }
    if (batch.length < BATCH) return assigned;
  }
};

/** The layout step that brings webhook endpoints and invitations under their per-organization limits. */
export const assignAllSlots = async (deps: Deps): Promise<void> => {
  await assignSlots(deps.data.collection(WEBHOOKS), MAX_WEBHOOKS);
  await assignSlots(deps.data.collection(INVITATIONS), deps.settings.maxPendingInvitations);
};

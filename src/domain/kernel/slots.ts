import type { ObjectId } from "bson";
import type { Collection } from "../../data/client";
import { DuplicateKeyError } from "../../data/errors";
import type { IndexSpec } from "../../dataapi/engine";

/**
 * Per-organization limits held by the store, not by a count read before the insert: each document
 * under a limit takes one of its organization's numbered slots, `slot` = "<organization id>:<n>"
 * with n below the limit, and a unique index refuses a second document in a slot. So no number of
 * parallel inserts can pass the limit, and there is no step between the check and the write for a
 * crash to fall into: the insert is the check. A document keeps its slot until it is removed.
 *
 * The index is sparse: documents stored before slots existed have none and do not block its build
 * (the layout migration gives them one where a slot is free, layout/slots.ts).
 */
export const SLOT_INDEX: IndexSpec = { key: { slot: 1 }, name: "slot_unique", unique: true, sparse: true };

export const slotKey = (orgId: ObjectId, n: number): string => `${orgId.toHexString()}:${n}`;

const slotNumber = (slot: unknown): number | undefined => {
  if (typeof slot !== "string") return undefined;
  const n = Number(slot.slice(slot.indexOf(":") + 1));
  return Number.isInteger(n) ? n : undefined;
};

/** The slots below `max` no document of the organization holds, in random order. */
export const freeSlots = async (collection: Collection, orgId: ObjectId, max: number): Promise<number[]> => {
  const held = await collection.find({ org_id: orgId, slot: { $exists: true } }, { projection: { slot: 1 } });
  const used = new Set(held.map((doc) => slotNumber(doc.slot)));
  const free = Array.from({ length: max }, (_, n) => n).filter((n) => !used.has(n));
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [free[i], free[j]] = [free[j] as number, free[i] as number];
  }
  return free;
};

export type SlotOutcome = "inserted" | "full" | "conflict" | "busy";

/**
 * Inserts `doc` into a free slot of its organization: a random one first (one round trip while the
 * organization is far from its limit), or with `readFirst` the free ones read first (a small limit,
 * often reached: a refused create then writes nothing); taken, the slots in use are read and the
 * free ones tried.
 * Answers "full" when a read finds none free, and "conflict" when the insert is refused for another
 * unique key (the caller's own, such as an invitation's e-mail). Every refused try means another
 * insert took that slot, so the tries are bounded by the limit; past that (slots freed and taken
 * again all along) it answers "busy", to retry.
 */
export const insertInSlot = async <T extends { org_id: ObjectId }>(
  collection: Collection<T>,
  doc: T,
  max: number,
  options: { readFirst?: boolean; isOtherConflict?: () => Promise<boolean> } = {},
): Promise<SlotOutcome> => {
  let candidates = options.readFirst ? [] : [Math.floor(Math.random() * max)];
  for (let steps = 0; steps < 2 * max + 4; steps++) {
    const n = candidates.shift();
    if (n === undefined) {
      candidates = await freeSlots(collection as unknown as Collection, doc.org_id, max);
      if (candidates.length === 0) return "full";
      continue;
    }
    try {
      await collection.insertOne({ ...doc, slot: slotKey(doc.org_id, n) });
      return "inserted";
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      if (await options.isOtherConflict?.()) return "conflict";
    }
  }
  return "busy";
};

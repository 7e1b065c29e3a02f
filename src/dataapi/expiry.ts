import type { Doc, IndexSpec } from "./engine";
import { getPath } from "./paths";

// MongoDB's TTL rule, applied by the embedded store (src/store/ttl.ts) and, on a server without
// TTL indexes, by the gateway (gateway/ttl-monitor.ts).

export const ttlIndexesOf = (indexes: readonly IndexSpec[]): IndexSpec[] => indexes.filter((i) => i.expireAfterSeconds !== undefined);

/**
 * When a document expires under MongoDB's rules: its TTL field's date (the earliest, for an array
 * of dates) plus `expireAfterSeconds`, the soonest over the collection's TTL indexes. A document
 * whose field is missing or holds no date never expires: undefined.
 */
export const expiryOf = (doc: Doc, indexes: readonly IndexSpec[]): number | undefined => {
  let soonest: number | undefined;
  for (const index of ttlIndexesOf(indexes)) {
    const field = Object.keys(index.key)[0];
    if (field === undefined) continue;
    const value = getPath(doc, field);
    const candidates = Array.isArray(value) ? value : [value];
    for (const date of candidates) {
      if (!(date instanceof Date) || Number.isNaN(date.getTime())) continue;
      const at = date.getTime() + (index.expireAfterSeconds ?? 0) * 1000;
      if (soonest === undefined || at < soonest) soonest = at;
    }
  }
  return soonest;
};

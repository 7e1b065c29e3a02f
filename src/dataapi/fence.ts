import type { Doc, Namespace, ReadFence } from "./engine";
import { DataApiError } from "./errors";

/**
 * The collection a fence's guard document names (`insertOneFenced`, `findFenced`), checked as the
 * request's own collection was; null when no guard matched. Every engine reads its guard its own
 * way and hands it here.
 */
export const fencedTarget = (ns: Namespace, fence: ReadFence, guard: Doc | null | undefined): string | null => {
  if (!guard) return null;
  const target = guard[fence.target];
  if (typeof target !== "string") throw new DataApiError("InvalidParameter", `the fence's document has no collection name in ${fence.target}`);
  ns.admit?.(target);
  return target;
};

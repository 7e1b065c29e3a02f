import { isPlainObject } from "../src/dataapi/ejson";
import type { Doc } from "../src/dataapi/engine";
import { DataApiError } from "../src/dataapi/errors";

/**
 * Stages that write to, or read from, a collection other than the one named in the request.
 * They would step around the gateway's database and collection restrictions (and `aggregate` is
 * not a write action), so they are refused here as the embedded store refuses them.
 */
const CROSS_COLLECTION_STAGES = new Set(["$out", "$merge", "$lookup", "$unionWith", "$graphLookup"]);

/** Refuses those stages at any depth, since `$facet` nests whole pipelines. */
export const assertSingleCollectionPipeline = (value: unknown, depth = 0): void => {
  if (depth > 100) throw new DataApiError("InvalidParameter", "pipeline nested too deeply");
  if (Array.isArray(value)) {
    for (const item of value) assertSingleCollectionPipeline(item, depth + 1);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, item] of Object.entries(value as Doc)) {
    if (CROSS_COLLECTION_STAGES.has(key)) throw new DataApiError("InvalidParameter", `${key} is not supported by the gateway`);
    assertSingleCollectionPipeline(item, depth + 1);
  }
};

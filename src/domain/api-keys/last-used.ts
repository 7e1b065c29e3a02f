import { type ApiKeyPrincipal, keyPath, keyValidPath } from "../kernel/api-key-secret";
import type { Deps } from "../kernel/deps";

/**
 * A key's `last_used_at`, written at most once a minute per key and never on the request's way to
 * its answer: after it, by the Worker's background work. The store's filter keeps the minute
 * across isolates; the isolate's own memory keeps most requests from writing at all.
 */

const INTERVAL_MS = 60_000;
const MAX_REMEMBERED = 10_000;
const noted = new Map<string, number>();

export const noteKeyUse = (deps: Deps, key: ApiKeyPrincipal): void => {
  const at = key.at.getTime();
  const last = noted.get(key.keyId);
  if (last !== undefined && at - last < INTERVAL_MS) return;
  if (noted.size >= MAX_REMEMBERED) noted.clear();
  noted.set(key.keyId, at);
  deps.background((after) =>
    after.organizations.updateOne(
      // Only a key that is still open: a wrong or revoked one never writes.
      {
        _id: key.orgId,
        [keyValidPath(key.keyId, key.secretHash)]: { $gt: key.at },
        [keyPath(key.keyId, "last_used_at")]: { $not: { $gt: new Date(at - INTERVAL_MS) } },
      },
      { $set: { [keyPath(key.keyId, "last_used_at")]: key.at } },
    ),
  );
};

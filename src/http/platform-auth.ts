import type { PlatformKey } from "../config/settings";
import { settingsFor } from "../deps";
import { AppError } from "../domain/kernel/errors";
import type { Env } from "../env";
import { bearerToken } from "./authenticate";
import type { AppRequest } from "./context";

const digest = async (text: string): Promise<ArrayBuffer> => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));

/**
 * The configured key whose secret was presented, compared in constant time: both sides are
 * hashed to 32 bytes first (so lengths never differ) and every key is compared, match or not.
 */
const keyFor = async (keys: PlatformKey[], presented: string): Promise<PlatformKey | undefined> => {
  const given = await digest(presented);
  let found: PlatformKey | undefined;
  for (const key of keys) {
    if (crypto.subtle.timingSafeEqual(given, await digest(key.secret))) found = key;
  }
  return found;
};

/**
 * The operator behind a /platform request. Without keys configured, or without a valid one, the
 * answer is the 404 of a path that does not exist: the operator API is not advertised to anyone
 * who cannot use it, and a missing and a wrong key look the same. A read key that tries to act
 * gets a 403 naming the scope it lacks. A member's JWT is no key: it gets the same 404.
 */
export const requireOperator = async (request: AppRequest, env: Env, scope: "read" | "write"): Promise<PlatformKey> => {
  const keys = settingsFor(env).platformKeys;
  const presented = bearerToken(request);
  const key = keys.length > 0 && presented ? await keyFor(keys, presented) : undefined;
  if (!key) throw new AppError("PLATFORM_KEY_REQUIRED");
  request.state.operatorKeyId = key.id;
  if (scope === "write" && key.scope !== "write") throw new AppError("PLATFORM_READ_ONLY");
  return key;
};

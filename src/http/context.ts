import type { IRequest } from "itty-router";
import { ConfigError, parseSettings, type Settings } from "../config/settings";
import { connectData } from "../data/connect";
import { AppError } from "../domain/errors";
import { type Deps, ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "../domain/organization";
import type { Env } from "../env";

export interface RequestState {
  requestId: string;
  startedAt: number;
  deps?: Deps;
  orgId?: string;
}

export type AppRequest = IRequest & { state: RequestState };

const settingsCache = new WeakMap<object, Settings>();
const indexesReady = new WeakMap<object, Promise<void>>();

export const settingsFor = (env: Env): Settings => {
  let settings = settingsCache.get(env);
  if (!settings) {
    try {
      settings = parseSettings(env);
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(JSON.stringify({ msg: "invalid configuration", error: error.message }));
        throw new AppError("MISCONFIGURED");
      }
      throw error;
    }
    settingsCache.set(env, settings);
  }
  return settings;
};

/**
 * Creates the master collection's indexes once per isolate (idempotent in the store), on its own
 * client so that the per-request round-trip count stays that of the request itself.
 */
const ensureIndexes = (env: Env, settings: Settings): Promise<void> => {
  let ready = indexesReady.get(env);
  if (!ready) {
    ready = connectData(env, settings).collection(ORGANIZATIONS).createIndexes(ORGANIZATION_INDEXES);
    ready.catch(() => indexesReady.delete(env));
    indexesReady.set(env, ready);
  }
  return ready;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Router `before` stage: gives every request an id (the caller's, when well-formed) and a start time. */
export const withState = (request: IRequest): undefined => {
  const given = request.headers.get("x-request-id");
  (request as AppRequest).state = { requestId: given && REQUEST_ID.test(given) ? given : crypto.randomUUID(), startedAt: Date.now() };
  return undefined;
};

/** The domain's dependencies, with the master collection's indexes in place. */
export const createDeps = async (env: Env): Promise<Deps> => {
  const settings = settingsFor(env);
  await ensureIndexes(env, settings);
  const data = connectData(env, settings);
  return { data, organizations: data.collection<OrganizationDoc>(ORGANIZATIONS), settings, now: () => new Date() };
};

/** The domain's dependencies for this request, built on first use (routes without data never pay for them). */
export const depsFor = async (request: AppRequest, env: Env): Promise<Deps> => {
  request.state.deps ??= await createDeps(env);
  return request.state.deps;
};

import type { IRequest } from "itty-router";
import { ConfigError, parseSettings, type Settings } from "../config/settings";
import { connectData } from "../data/connect";
import { AUDIT_LOG, type AuditAction, type AuditOutcome, auditIndexes } from "../domain/audit";
import { AppError } from "../domain/errors";
import { LOGIN_ATTEMPT_INDEXES, LOGIN_ATTEMPTS } from "../domain/login-attempts";
import { type Deps, ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "../domain/organization";
import type { Env } from "../env";
import { throttleClient } from "./throttle";

/** What a route tells the `finally` stage to write to the audit trail. */
export interface AuditNote {
  action: AuditAction;
  orgId?: string;
  organizationName?: string;
  email?: string;
  /** Set when the status alone does not tell (a per-IP throttle is not an account lockout). */
  outcome?: AuditOutcome;
}

export interface RequestState {
  requestId: string;
  startedAt: number;
  ctx?: ExecutionContext;
  deps?: Deps;
  orgId?: string;
  audit?: AuditNote;
}

export type AppRequest = IRequest & { state: RequestState };

const settingsCache = new WeakMap<object, Settings>();
const indexesReady = new WeakMap<object, Promise<unknown>>();

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
 * Creates the master database's indexes once per isolate (idempotent in the store), on its own
 * client so that the per-request round-trip count stays that of the request itself.
 */
const ensureIndexes = (env: Env, settings: Settings): Promise<unknown> => {
  let ready = indexesReady.get(env);
  if (!ready) {
    const data = connectData(env, settings);
    ready = Promise.all([
      data.collection(ORGANIZATIONS).createIndexes(ORGANIZATION_INDEXES),
      data.collection(AUDIT_LOG).createIndexes(auditIndexes(settings.auditRetentionDays)),
      data.collection(LOGIN_ATTEMPTS).createIndexes(LOGIN_ATTEMPT_INDEXES),
    ]);
    ready.catch(() => indexesReady.delete(env));
    indexesReady.set(env, ready);
  }
  return ready;
};

/**
 * A caller's id is kept only in a narrow shape (a UUID fits it): it lands in log lines and the
 * audit trail, where a free-form value could forge entries or pass for another request's id.
 */
const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Router `before` stage: gives every request an id (the caller's, when well-formed) and a start time. */
export const withState = (request: IRequest, _env: Env, ctx?: ExecutionContext): undefined => {
  const given = request.headers.get("x-request-id");
  (request as AppRequest).state = { requestId: given && REQUEST_ID.test(given) ? given : crypto.randomUUID(), startedAt: Date.now(), ctx };
  return undefined;
};

/** Keeps work alive after the answer when the platform allows it; failures are logged, never thrown. */
export const keepAlive = (ctx: ExecutionContext | undefined, task: Promise<unknown>): void => {
  const guarded = task.catch((error) => console.error(JSON.stringify({ msg: "background task failed", error: String(error) })));
  ctx?.waitUntil(guarded);
};

const buildDeps = (env: Env, settings: Settings, ctx?: ExecutionContext): Deps => {
  const data = connectData(env, settings);
  return {
    data,
    organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
    settings,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    background: (task) => keepAlive(ctx, task(buildDeps(env, settings, ctx))),
  };
};

/** The domain's dependencies, with the master database's indexes in place. */
export const createDeps = async (env: Env, ctx?: ExecutionContext): Promise<Deps> => {
  const settings = settingsFor(env);
  await ensureIndexes(env, settings);
  return buildDeps(env, settings, ctx);
};

/** The domain's dependencies for this request, built on first use (routes without data never pay for them). */
export const depsFor = async (request: AppRequest, env: Env): Promise<Deps> => {
  request.state.deps ??= { ...(await createDeps(env, request.state.ctx)), throttleCredentials: () => throttleClient(request, env) };
  return request.state.deps;
};

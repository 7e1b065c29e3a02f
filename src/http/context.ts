import type { IRequest } from "itty-router";
import { createDeps } from "../deps";
import type { AuditAction, AuditOutcome } from "../domain/audit/audit";
import type { Deps } from "../domain/kernel/deps";
import { AppError } from "../domain/kernel/errors";
import type { Permission } from "../domain/kernel/roles";
import type { Env } from "../env";

/** What a route tells the `finally` stage to write to the audit trail. */
export interface AuditNote {
  action: AuditAction;
  orgId?: string;
  organizationName?: string;
  email?: string;
  /** Why an operator suspended an organization. */
  reason?: string;
  /** Set when the status alone does not tell (a per-IP throttle is not an account lockout). */
  outcome?: AuditOutcome;
}

/** What one request carries through the router's stages. */
export interface RequestState {
  requestId: string;
  startedAt: number;
  ctx?: ExecutionContext;
  deps?: Deps;
  orgId?: string;
  /** The platform operator key's id (never the key), once a /platform request presented a valid one. */
  operatorKeyId?: string;
  /** The organization's API key's id (never its secret), when one authenticated the request. */
  apiKeyId?: string;
  audit?: AuditNote;
  /** The permission the matched route declares; the principal's role must allow it. */
  permission?: Permission;
  /** The matched route admits a team's lead without its permission (`Route.leadMay`). */
  leadMay?: true;
  /** The response `secured` built with every header `finish` would add already in place. */
  secured?: Response;
}

export type AppRequest = IRequest & { state: RequestState };

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

/** The domain's dependencies for this request, built on first use (routes without data never pay for them). */
export const depsFor = async (request: AppRequest, env: Env): Promise<Deps> => {
  if (request.state.deps) return request.state.deps;
  const deps = await createDeps(env, request.state.ctx);
  let throttled: Promise<void> | undefined;
  // createDeps builds a new object for each call: this request's alone.
  deps.throttleCredentials = () => (throttled ??= throttleClient(request, env));
  request.state.deps ??= deps;
  return request.state.deps;
};

/**
 * The per-client-address throttle of password checks, through the Workers Rate Limiting binding.
 * `cf-connecting-ip` is set by Cloudflare's edge, which overwrites any value a client sends; under
 * `wrangler dev` nothing sets it, so there it is whatever the client says.
 */
const throttleClient = (request: AppRequest, env: Env): Promise<void> =>
  throttle(request, env.LOGIN_RATE_LIMITER, request.headers.get("cf-connecting-ip") ?? "unknown");

/**
 * The per-key throttle of what an organization's API key calls. It counts per secret (its hash),
 * not per key id: the id is readable in the secret, and a stranger's wrong secrets must not spend
 * a real key's allowance. It runs before the request's guarded read, which is where a key is
 * verified, so a wrong key is throttled by its own bucket and then refused with a 401.
 */
export const throttleKey = (request: AppRequest, env: Env, secretHash: string): Promise<void> => throttle(request, env.API_KEY_RATE_LIMITER, secretHash);

/**
 * The per-address throttle of mailed links, counted for any address asked about (known or not, so
 * the 429 tells nothing), keyed by the address's hash as the lockout counter is.
 */
export const throttleAddress = (request: AppRequest, env: Env, addressKey: string): Promise<void> => throttle(request, env.MAIL_RATE_LIMITER, addressKey);

/** One count against a Rate Limiting binding (none configured: no limit); 429 once spent. */
const throttle = async (request: AppRequest, limiter: RateLimit | undefined, key: string): Promise<void> => {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) {
    if (request.state.audit) request.state.audit.outcome = "rate_limited";
    throw new AppError("RATE_LIMITED", undefined, 60);
  }
};

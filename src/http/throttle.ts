import { AppError } from "../domain/errors";
import type { Env } from "../env";
import type { AppRequest } from "./context";

/**
 * The per-client-address throttle of password checks, through the Workers Rate Limiting binding.
 * `cf-connecting-ip` is set by Cloudflare's edge, which overwrites any value a client sends; under
 * `wrangler dev` nothing sets it, so there it is whatever the client says.
 */
export const throttleClient = async (request: AppRequest, env: Env): Promise<void> => {
  if (!env.LOGIN_RATE_LIMITER) return;
  const key = request.headers.get("cf-connecting-ip") ?? "unknown";
  const { success } = await env.LOGIN_RATE_LIMITER.limit({ key });
  if (!success) {
    if (request.state.audit) request.state.audit.outcome = "rate_limited";
    throw new AppError("RATE_LIMITED", undefined, 60);
  }
};

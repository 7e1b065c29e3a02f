import type { AppRequest, RequestState } from "./context";
import { SECURITY_HEADERS } from "./security-headers";

/** The request's own headers: its id, and the data round trips it made before its answer. */
const requestHeaders = (state: RequestState): Record<string, string> => ({
  "x-request-id": state.requestId,
  "x-data-round-trips": String(state.deps?.data.roundTrips ?? 0),
});

/**
 * A route's response with the security headers given at construction, under the route's own
 * (which win, as in `finish`), and the request's own after them: one header list built at once
 * instead of a check and a write per name. The answer is built after the route's last store call
 * before it, so the round trips counted here are those `finish` would count.
 */
export const secured = (build: (headers: Record<string, string>) => Response, own?: HeadersInit, state?: RequestState): Response => {
  const response = build({ ...SECURITY_HEADERS, ...(own ? Object.fromEntries(new Headers(own)) : {}), ...(state ? requestHeaders(state) : {}) });
  // Noted on the request, not in a WeakSet of responses: one entry per request would pile up
  // between collections, and weak tables are the costliest thing a collection walks.
  if (state) state.secured = response;
  return response;
};

/**
 * Router `finally` stage: security headers, the request id and the data round trips on every
 * response, and one structured log line per request (never bodies, tokens or passwords).
 */
export const finish = (response: Response, request: AppRequest): Response => {
  const { state } = request;
  let mutable = response;
  if (state?.secured !== response) {
    // The routes' own responses have mutable headers; only a response from elsewhere needs a copy.
    mutable = isMutable(response) ? response : new Response(response.body, response);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!mutable.headers.has(name)) mutable.headers.set(name, value);
    if (state) for (const [name, value] of Object.entries(requestHeaders(state))) mutable.headers.set(name, value);
  }
  const roundTrips = state?.deps?.data.roundTrips ?? 0;
  console.log(
    JSON.stringify({
      request_id: state?.requestId,
      method: request.method,
      route: request.route ?? new URL(request.url).pathname,
      status: response.status,
      duration_ms: state ? Date.now() - state.startedAt : undefined,
      org_id: state?.orgId,
      data_round_trips: roundTrips,
    }),
  );
  return mutable;
};

const isMutable = (response: Response): boolean => {
  try {
    response.headers.set("x-content-type-options", "nosniff");
    return true;
  } catch {
    return false;
  }
};

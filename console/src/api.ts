import { createOrgClient } from "../../clients/typescript/index";
import { ERRORS } from "../../src/domain/kernel/errors";
import { signedIn, signOut } from "./session";

/**
 * The console's only way to the service: the generated client (clients/typescript), the public
 * API and nothing else. The member's token goes on every call; a call the service refuses for the
 * token (revoked by a role change, a removal, a sign-out elsewhere, or expired) ends the session.
 */
export const api = createOrgClient({ baseUrl: location.origin });

const WITHOUT_SESSION_HEADER = "x-console-without-session";
/** Headers of a call made as nobody in particular, though the tab is signed in (accepting an invitation with a password). */
export const WITHOUT_SESSION = { [WITHOUT_SESSION_HEADER]: "1" };

const OWN_REFUSAL_HEADER = "x-console-own-refusal";
/**
 * Headers of a call made with the session whose 401 is about the call, not the session: accepting
 * an invitation meant for another address is refused with the same INVALID_TOKEN as an ended
 * session. The tab stays signed in; the page tells the two apart (see accept.tsx).
 */
export const OWN_REFUSAL = { [OWN_REFUSAL_HEADER]: "1" };
const ownRefusals = new WeakSet<Request>();

api.use({
  onRequest({ request }) {
    if (request.headers.has(WITHOUT_SESSION_HEADER)) {
      request.headers.delete(WITHOUT_SESSION_HEADER);
      return request;
    }
    if (request.headers.has(OWN_REFUSAL_HEADER)) {
      request.headers.delete(OWN_REFUSAL_HEADER);
      ownRefusals.add(request);
    }
    const token = signedIn()?.token;
    if (token && !request.headers.has("authorization")) request.headers.set("authorization", `Bearer ${token}`);
    return request;
  },
  async onResponse({ request, response }) {
    const token = signedIn()?.token;
    if (response.status !== 401 || !token || ownRefusals.has(request) || request.headers.get("authorization") !== `Bearer ${token}`) return response;
    // A wrong password typed into a form (a password change, a rename) is a 401 too, and ends nothing.
    const detail = (
      (await response
        .clone()
        .json()
        .catch(() => null)) as { detail?: unknown } | null
    )?.detail;
    if (detail === ERRORS.INVALID_TOKEN.message || detail === ERRORS.NOT_AUTHENTICATED.message)
      signOut("Your session ended (your access changed, or it expired): sign in again.");
    return response;
  },
});

/** A refusal from the service: its `detail` as a sentence, and per field for a 422. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** For a 422: the message of each field, by its name (the last part of `loc`). */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface Issue {
  loc?: (string | number)[];
  msg?: string;
}

const errorOf = (status: number, body: unknown): ApiError => {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return new ApiError(status, detail);
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    const lines = (detail as Issue[]).map((issue) => {
      const field = issue.loc?.[issue.loc.length - 1];
      if (field !== undefined && !(String(field) in fields)) fields[String(field)] = issue.msg ?? "Invalid";
      return `${issue.loc?.slice(1).join(".") || "request"}: ${issue.msg ?? "invalid"}`;
    });
    return new ApiError(status, lines.join("; "), fields);
  }
  return new ApiError(status, `The service answered ${status}.`);
};

type Pending<T> = Promise<{ data?: T; error?: unknown; response: Response }>;

/** The data of a call and its status, or an ApiError with the service's own words. */
export const answer = async <T>(pending: Pending<T>): Promise<{ data: T; status: number }> => {
  let result: Awaited<Pending<T>>;
  try {
    result = await pending;
  } catch {
    throw new ApiError(0, "The service could not be reached. Check your connection and try again.");
  }
  if (!result.response.ok) throw errorOf(result.response.status, result.error);
  return { data: result.data as T, status: result.response.status };
};

/** The data of a call, or an ApiError. Every page calls through this, so every refusal reads the same way. */
export const call = async <T>(pending: Pending<T>): Promise<T> => (await answer(pending)).data;

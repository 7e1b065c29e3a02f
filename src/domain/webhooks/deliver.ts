/**
 * One delivery attempt: a POST of the signed body, judged as the Standard Webhooks specification
 * judges it. A 2xx is success; anything else fails, including a 3xx, since redirects are never
 * followed (the registered URL passed the URL policy; where it redirects to did not, and a receiver
 * that moved should have its URL updated). No retries here: the caller records the attempt and
 * schedules the next one (schedule.ts).
 *
 * The receiver is a stranger: the attempt is bounded in time (the timeout covers connecting,
 * the answer and the excerpt of its body) and in memory (at most RESPONSE_EXCERPT_BYTES of the body
 * are read, the rest is cancelled, whatever its length).
 */

/** What the delivery log keeps of an answer; the body is the receiver's, not ours to store whole. */
export const RESPONSE_EXCERPT_BYTES = 4096;
/** The specification recommends 15 to 30 s for the receiver to acknowledge. */
export const DEFAULT_TIMEOUT_MS = 15_000;

export const DELIVERY_ERRORS = {
  http_status: "The endpoint answered with a status other than 2xx",
  redirect: "The endpoint answered with a redirect, which is not followed",
  timeout: "The endpoint did not answer in time",
  network: "The endpoint could not be reached",
} as const;

export type DeliveryError = keyof typeof DELIVERY_ERRORS;

export interface DeliveryRequest {
  url: string;
  /** The JSON text exactly as signed. */
  body: string;
  /** The webhook-id, webhook-timestamp and webhook-signature headers (signature.ts). */
  headers: Record<string, string>;
}

export interface DeliveryDeps {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  timeoutMs: number;
  /** A clock in milliseconds for the latency (performance.now or Date.now). */
  now: () => number;
}

export interface DeliveryResult {
  /** The endpoint accepted it: a 2xx status. */
  ok: boolean;
  /** The answer's status; null when there was none (timeout, network). */
  status: number | null;
  /**
   * The whole attempt: from the request's start to the end of reading the answer's excerpt (or the
   * timeout, or the failure), so a receiver that trickles its body is logged for as long as it held us.
   */
  latencyMs: number;
  error?: DeliveryError;
  /** The underlying failure's message, for the delivery log (network errors). */
  detail?: string;
  /** The start of the answer's body, decoded as UTF-8, at most RESPONSE_EXCERPT_BYTES of it. */
  responseExcerpt?: string;
}

const aborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

/**
 * Reads at most `limit` bytes, then cancels the stream. The read also stops when `signal` aborts,
 * whether or not the runtime ties the body to the request's signal.
 */
const readExcerpt = async (body: ReadableStream<Uint8Array> | null, limit: number, signal: AbortSignal): Promise<string> => {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const stop = aborted(signal);
  stop.catch(() => {});
  try {
    while (size < limit) {
      const { done, value } = await Promise.race([reader.read(), stop]);
      if (done) break;
      const part = value.subarray(0, limit - size);
      chunks.push(part);
      size += part.length;
    }
  } catch {
    // A body cut short by the timeout or the connection: keep what arrived.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  // A multi-byte character cut at the limit decodes to U+FFFD instead of failing.
  return new TextDecoder().decode(bytes);
};

const isTimeout = (error: unknown): boolean => error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");

const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  // Node's fetch says "fetch failed" and keeps the socket's reason (ECONNREFUSED, …) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
};

export const attemptDelivery = async (request: DeliveryRequest, deps: DeliveryDeps): Promise<DeliveryResult> => {
  const signal = AbortSignal.timeout(deps.timeoutMs);
  const headers = new Headers(request.headers);
  headers.set("content-type", "application/json");
  const started = deps.now();
  let response: Response;
  try {
    response = await deps.fetch(request.url, {
      method: "POST",
      headers,
      body: request.body,
      redirect: "manual",
      signal,
    });
  } catch (error) {
    const latencyMs = deps.now() - started;
    if (isTimeout(error) || signal.aborted) return { ok: false, status: null, latencyMs, error: "timeout" };
    return { ok: false, status: null, latencyMs, error: "network", detail: messageOf(error) };
  }
  const responseExcerpt = await readExcerpt(response.body, RESPONSE_EXCERPT_BYTES, signal);
  const latencyMs = deps.now() - started;
  const { status } = response;
  if (status >= 200 && status < 300) return { ok: true, status, latencyMs, responseExcerpt };
  const error: DeliveryError = status >= 300 && status < 400 ? "redirect" : "http_status";
  return { ok: false, status, latencyMs, error, responseExcerpt };
};

import type { EndpointSecrets } from "../kernel/deps";
/**
 * Webhook signatures as the Standard Webhooks specification (1.0.0, symmetric scheme) defines
 * them, so a receiver verifies with any of its libraries and no code of ours:
 *
 * - a secret is `whsec_` + base64 of 24 to 64 random bytes (192 to 512 bits), one per endpoint;
 * - the signed content is `<webhook-id>.<webhook-timestamp>.<body>`, the body exactly as sent;
 * - a signature is `v1,` + base64 of its HMAC-SHA256;
 * - `webhook-signature` lists one signature per active secret, space-separated, so that during a
 *   rotation the new and the previous secret both sign and a receiver holding either verifies.
 *
 * Web Crypto only: the same code runs in workerd and Node.
 */

export const SECRET_PREFIX = "whsec_";
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;
/** What a new endpoint gets: 256 bits, the size of the HMAC's own output. */
export const SECRET_DEFAULT_BYTES = 32;
/**
 * How long the previous secret keeps signing after a rotation: a day, time for the receiver to
 * deploy the new one, short enough that a leaked secret stops verifying soon.
 */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

// Strict, padded base64 of the standard alphabet: atob alone accepts whitespace and missing
// padding, and a secret that decodes here must decode the same in every receiver's library.
const fromBase64 = (text: string): Uint8Array<ArrayBuffer> | null => {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  // Non-zero bits in the last character's padding make two spellings of one key: refuse them.
  return toBase64(bytes) === text ? bytes : null;
};

/** A new secret in the specification's format, from the platform's CSPRNG. */
export const generateSecret = (byteLength: number = SECRET_DEFAULT_BYTES): string => {
  if (!Number.isInteger(byteLength) || byteLength < SECRET_MIN_BYTES || byteLength > SECRET_MAX_BYTES) {
    throw new TypeError(`A webhook secret has ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} bytes`);
  }
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(byteLength)));
};

/** The key bytes of a secret, or null when it is not `whsec_` + canonical base64 of 24 to 64 bytes. */
export const decodeSecret = (secret: string): Uint8Array<ArrayBuffer> | null => {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const key = fromBase64(secret.slice(SECRET_PREFIX.length));
  return key && key.length >= SECRET_MIN_BYTES && key.length <= SECRET_MAX_BYTES ? key : null;
};

export const isValidSecret = (secret: string): boolean => decodeSecret(secret) !== null;

// The specification: id and timestamp must not contain "." (the separator of the signed content),
// or one signature could be replayed under another split. Ours are ours, but a caller's mistake
// must fail here rather than sign something ambiguous.
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

const checkContent = (id: string, timestamp: number): void => {
  if (!ID_PATTERN.test(id)) throw new TypeError("A webhook id is 1 to 128 characters of [A-Za-z0-9_-]");
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError("A webhook timestamp is a non-negative integer of seconds");
};

/** The attempt's time as the header carries it: integer seconds since the epoch. */
export const webhookTimestamp = (now: Date): number => Math.floor(now.getTime() / 1000);

/** One `v1,<base64>` signature of `<id>.<timestamp>.<body>` with one secret. */
export const sign = async (secret: string, id: string, timestamp: number, body: string): Promise<string> => {
  checkContent(id, timestamp);
  const key = decodeSecret(secret);
  if (!key) throw new TypeError("Not a webhook secret (whsec_ + base64 of 24 to 64 bytes)");
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
};

/** The `webhook-signature` value: one signature per secret, in the order given, space-separated. */
export const signatureHeader = async (secrets: readonly string[], id: string, timestamp: number, body: string): Promise<string> => {
  if (secrets.length === 0) throw new TypeError("At least one secret signs a webhook");
  const signatures = await Promise.all(secrets.map((secret) => sign(secret, id, timestamp, body)));
  return signatures.join(" ");
};

/** The secrets that sign at `now`: the current one first, then the previous one until its overlap ends. */
export const activeSecrets = (secrets: EndpointSecrets, now: Date): string[] =>
  secrets.previous && now.getTime() < secrets.previous.expiresAt.getTime() ? [secrets.current, secrets.previous.secret] : [secrets.current];

/**
 * The secrets after `next` replaces the current one at `now`: the replaced one keeps signing for
 * ROTATION_OVERLAP_MS. A secret older than that (a second rotation within the overlap) stops at
 * once: two signatures at most, and the one most recently handed out is never dropped early.
 */
export const rotate = (secrets: EndpointSecrets, next: string, now: Date): EndpointSecrets => {
  if (!isValidSecret(next)) throw new TypeError("Not a webhook secret (whsec_ + base64 of 24 to 64 bytes)");
  return { current: next, previous: { secret: secrets.current, expiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS) } };
};

/**
 * The three headers of one delivery attempt. The id is the event's, the same on every retry (the
 * receiver's idempotency key); the timestamp is the attempt's, new on every retry (the receiver's
 * replay window), so every attempt is signed anew.
 */
export const webhookHeaders = async (delivery: { id: string; body: string; secrets: EndpointSecrets }, now: Date): Promise<WebhookHeaders> => {
  const timestamp = webhookTimestamp(now);
  return {
    "webhook-id": delivery.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureHeader(activeSecrets(delivery.secrets, now), delivery.id, timestamp, delivery.body),
  };
};

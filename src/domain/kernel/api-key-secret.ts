import { ObjectId } from "bson";
import { base64url } from "jose";
import type { Permission } from "./roles";
import { KEY_SCOPES } from "./roles";

/**
 * An organization's API key as a credential. Its secret reads
 * `oms_<organization id><key id><scope bits>_<32 random bytes, base64url>`: the fixed prefix lets
 * secret scanners find a leaked key, the ids let the request's own guarded read find it without a
 * scan, and the scopes ride in the secret so that the permission check needs no read. None of it
 * can be forged: the store keeps the SHA-256 of the whole secret, and every guard compares it.
 * A hash of 256 random bits needs no slow password hash.
 */

export const API_KEY_PREFIX = "oms_";

const SECRET = /^oms_([0-9a-f]{24})([0-9a-f]{24})([0-9a-f]{4})_([A-Za-z0-9_-]{43})$/;

/** The caller a key names, once its secret's form is checked (the store checks the rest). */
export interface ApiKeyPrincipal {
  kind: "api_key";
  orgId: ObjectId;
  /** The key's id, 24 hexadecimal digits. */
  keyId: string;
  secretHash: string;
  scopes: Permission[];
  /** The request's instant: the key's secret must be open after it. */
  at: Date;
}

export const isApiKey = (caller: object): caller is ApiKeyPrincipal => (caller as { kind?: string }).kind === "api_key";

/** Where a key lives in its organization's document. */
export const keyPath = (keyId: string, field?: string): string => `api_keys.${keyId}${field ? `.${field}` : ""}`;

/** The instant after which one of a key's secrets no longer opens it. */
export const keyValidPath = (keyId: string, secretHash: string): string => keyPath(keyId, `secrets.${secretHash}`);

const scopeBits = (scopes: readonly Permission[]): string =>
  KEY_SCOPES.reduce((bits, scope, index) => (scopes.includes(scope) ? bits | (1 << index) : bits), 0)
    .toString(16)
    .padStart(4, "0");

const scopesOf = (bits: string): Permission[] => {
  const mask = Number.parseInt(bits, 16);
  return KEY_SCOPES.filter((_, index) => (mask & (1 << index)) !== 0);
};

/** The SHA-256 of a high-entropy secret (a key, an invitation's token), in hex: what is stored in its place. */
export const hashSecret = async (secret: string): Promise<string> => {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
};

/** A new secret for a key: answered once, stored only as its hash. */
export const newSecret = async (orgId: ObjectId, keyId: string, scopes: readonly Permission[]) => {
  const secret = `${API_KEY_PREFIX}${orgId.toHexString()}${keyId}${scopeBits(scopes)}_${base64url.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
  // Enough to tell keys apart in a list, nothing of the random part that would help a guess.
  return { secret, hash: await hashSecret(secret), prefix: secret.slice(0, API_KEY_PREFIX.length + 52) };
};

/** The key a bearer credential names, or null when it is not a key (a token, then). A key-shaped string with unknown scope bits names nothing. */
export const authenticateKey = async (token: string, at: Date): Promise<ApiKeyPrincipal | null> => {
  const match = SECRET.exec(token);
  if (!match) return null;
  const [, org, keyId, bits] = match as unknown as [string, string, string, string];
  return { kind: "api_key", orgId: ObjectId.createFromHexString(org), keyId, secretHash: await hashSecret(token), scopes: scopesOf(bits), at };
};

export const newKeyId = (): string => new ObjectId().toHexString();

/**
 * Password hashes in passlib's `pbkdf2_sha256` format, `$pbkdf2-sha256$<rounds>$<salt>$<checksum>`
 * with salt and checksum in passlib's adapted base64. The format names algorithm, cost and salt,
 * so hashes of the FastAPI service verify as they are, and the cost can rise without breaking old ones.
 */
import { WORKERS_PBKDF2_MAX_ITERATIONS } from "../../workers-limits";

const PREFIX = "$pbkdf2-sha256$";
const SALT_BYTES = 16;
const KEY_BYTES = 32;

export { WORKERS_PBKDF2_MAX_ITERATIONS };

const toAb64 = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, ".")
    .replace(/=+$/, "");

const fromAb64 = (text: string): Uint8Array<ArrayBuffer> | null => {
  if (!/^[A-Za-z0-9./]*$/.test(text)) return null;
  const padded = text.replace(/\./g, "+") + "=".repeat((4 - (text.length % 4)) % 4);
  try {
    // A loop, not Uint8Array.from with a function: a login decodes a salt and a checksum twice.
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
};

interface ParsedHash {
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  checksum: Uint8Array;
}

const parse = (hash: string): ParsedHash | null => {
  if (!hash.startsWith(PREFIX)) return null;
  const [rounds, salt, checksum, ...rest] = hash.slice(PREFIX.length).split("$");
  if (rest.length || !rounds || !/^[1-9][0-9]{0,9}$/.test(rounds) || salt === undefined || checksum === undefined) return null;
  const saltBytes = fromAb64(salt);
  const checksumBytes = fromAb64(checksum);
  if (!saltBytes || !checksumBytes || checksumBytes.length !== KEY_BYTES) return null;
  return { iterations: Number(rounds), salt: saltBytes, checksum: checksumBytes };
};

const derive = async (password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> => {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, KEY_BYTES * 8);
  return new Uint8Array(bits);
};

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
};

export const hashPassword = async (password: string, iterations: number): Promise<string> => {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > WORKERS_PBKDF2_MAX_ITERATIONS) {
    throw new TypeError(`PBKDF2 iterations must be an integer from 1 to ${WORKERS_PBKDF2_MAX_ITERATIONS}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return `${PREFIX}${iterations}$${toAb64(salt)}$${toAb64(await derive(password, salt, iterations))}`;
};

/**
 * Checks a password against a stored hash. A hash that cannot be parsed, or whose cost the
 * platform cannot compute, simply does not verify.
 */
export const verifyPassword = async (password: string, hash: string): Promise<boolean> => {
  const parsed = parse(hash);
  if (!parsed || parsed.iterations > WORKERS_PBKDF2_MAX_ITERATIONS) return false;
  return equalBytes(await derive(password, parsed.salt, parsed.iterations), parsed.checksum);
};

/** Whether a verified hash should be rewritten at the configured cost. */
export const needsRehash = (hash: string, iterations: number): boolean => parse(hash)?.iterations !== iterations;

/**
 * A hash of no one's password, checked when an e-mail is unknown so that such a login costs
 * what a wrong password costs and the answer time reveals nothing.
 */
export const dummyHash = (iterations: number): string => `${PREFIX}${iterations}$AAAAAAAAAAAAAAAAAAAAAA$${"A".repeat(43)}`;

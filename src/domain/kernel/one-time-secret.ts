import { ObjectId } from "bson";
import { base64url } from "jose";
import { hashSecret } from "./api-key-secret";

/**
 * One-time secrets: an invitation's token, a mailed link. Each is stored only as its SHA-256
 * (`hashSecret`), so the random part alone carries the secret: 256 bits, beyond guessing.
 */
export const randomSecret = (): string => base64url.encode(crypto.getRandomValues(new Uint8Array(32)));

/**
 * A secret that names the document it opens (an account, an invitation): the id, then the random
 * part, so the document is found by its id, not scanned for by hash.
 */
export const idSecret = (id: ObjectId, random: string): string => `${id.toHexString()}${random}`;

const ID_SECRET = /^([0-9a-f]{24})[A-Za-z0-9_-]{43}$/;

/** The id an `idSecret` names and the hash the document must hold; null for anything not shaped as one. */
export const readIdSecret = async (token: string): Promise<{ id: ObjectId; hash: string } | null> => {
  const id = ID_SECRET.exec(token)?.[1];
  return id ? { id: ObjectId.createFromHexString(id), hash: await hashSecret(token) } : null;
};

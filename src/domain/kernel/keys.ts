import { base64url, type CryptoKey, exportJWK, importJWK, type JWK } from "jose";

export type HmacAlgorithm = "HS256" | "HS384" | "HS512";
export type AsymmetricAlgorithm = "ES256" | "EdDSA";
export type JwtAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

/** Where signing keys come from: HMAC secrets, or an asymmetric private JWK (public part served as JWKS). */
export interface KeySettings {
  algorithm: JwtAlgorithm;
  secret?: string;
  /** The secret before the last rotation: its tokens verify until they expire. */
  previousSecret?: string;
  privateJwk?: JWK;
  previousPublicJwk?: JWK;
}

export interface VerifyKey {
  alg: JwtAlgorithm;
  key: CryptoKey | Uint8Array;
}

export interface KeyRing {
  kid: string;
  alg: JwtAlgorithm;
  signingKey: CryptoKey | Uint8Array;
  /** Every key a token may name in its `kid`: the current one and the previous one. */
  verifyKeys: Map<string, VerifyKey>;
  /** Public keys for /.well-known/jwks.json (empty for HMAC: a secret is never published). */
  jwks: JWK[];
}

const encoder = new TextEncoder();

/** A key id that names a secret without revealing anything useful about it. */
const secretKid = async (secret: string): Promise<string> =>
  `hs-${base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(`kid:${secret}`)))).slice(0, 16)}`;

const publicPart = (jwk: JWK): JWK => {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
};

const jwkKid = (jwk: JWK, fallback: string): string => jwk.kid ?? fallback;

const isHmac = (alg: JwtAlgorithm): alg is HmacAlgorithm => alg.startsWith("HS");

/** A secret imported once: given the bytes, jose would import them again on every signature and check. */
const hmacKey = (secret: string, alg: HmacAlgorithm): Promise<CryptoKey> =>
  crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: `SHA-${alg.slice(2)}` }, false, ["sign", "verify"]) as Promise<CryptoKey>;

const hmacRing = async (settings: KeySettings): Promise<KeyRing> => {
  if (!settings.secret) throw new TypeError("an HMAC algorithm needs JWT_SECRET");
  const alg = settings.algorithm as HmacAlgorithm;
  const kid = await secretKid(settings.secret);
  const signingKey = await hmacKey(settings.secret, alg);
  const verifyKeys = new Map<string, VerifyKey>([[kid, { alg, key: signingKey }]]);
  if (settings.previousSecret) verifyKeys.set(await secretKid(settings.previousSecret), { alg, key: await hmacKey(settings.previousSecret, alg) });
  return { kid, alg, signingKey, verifyKeys, jwks: [] };
};

const asymmetricRing = async (settings: KeySettings): Promise<KeyRing> => {
  if (!settings.privateJwk) throw new TypeError(`${settings.algorithm} needs JWT_PRIVATE_KEY (a private JWK)`);
  const alg = settings.algorithm;
  const current = { ...publicPart(settings.privateJwk), alg, use: "sig", kid: jwkKid(settings.privateJwk, "current") };
  const signingKey = (await importJWK({ ...settings.privateJwk, alg }, alg)) as CryptoKey;
  const verifyKeys = new Map<string, VerifyKey>([[current.kid, { alg, key: (await importJWK(current, alg)) as CryptoKey }]]);
  const jwks: JWK[] = [current];
  if (settings.previousPublicJwk) {
    const previous = { ...publicPart(settings.previousPublicJwk), alg, use: "sig", kid: jwkKid(settings.previousPublicJwk, "previous") };
    verifyKeys.set(previous.kid, { alg, key: (await importJWK(previous, alg)) as CryptoKey });
    jwks.push(previous);
  }
  return { kid: current.kid, alg, signingKey, verifyKeys, jwks };
};

const rings = new WeakMap<KeySettings, Promise<KeyRing>>();

/** Imports the keys once per settings object (once per isolate). */
export const keyRing = (settings: KeySettings): Promise<KeyRing> => {
  let ring = rings.get(settings);
  if (!ring) {
    ring = isHmac(settings.algorithm) ? hmacRing(settings) : asymmetricRing(settings);
    rings.set(settings, ring);
  }
  return ring;
};

/** Makes a fresh private JWK for the asymmetric algorithms (used by tests and the key-generation script). */
export const generatePrivateJwk = async (alg: AsymmetricAlgorithm, kid: string): Promise<JWK> => {
  const params = alg === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  return { ...(await exportJWK(pair.privateKey)), kid };
};

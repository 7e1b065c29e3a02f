const encoder = new TextEncoder();

const digest = async (value: string): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));

const equalDigests = (a: Uint8Array, b: Uint8Array): boolean => {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
};

/**
 * Compares a presented key with the configured ones in time that does not depend on where they
 * differ: both sides are hashed to fixed-length digests first, then compared without early exit.
 * The configured keys are hashed once, not per request: WebCrypto's digest is the costliest step
 * of authenticating (about 0.1 ms each on Node), and the keys do not change.
 */
export const createApiKeyMatcher = (keys: readonly string[]): ((presented: string) => Promise<boolean>) => {
  let expected: Promise<Uint8Array[]> | undefined;
  return async (presented) => {
    expected ??= Promise.all(keys.map(digest));
    const [given, configured] = await Promise.all([digest(presented), expected]);
    let matched = false;
    for (const key of configured) matched = equalDigests(key, given) || matched;
    return matched;
  };
};

export const matchesApiKey = (presented: string, keys: readonly string[]): Promise<boolean> => createApiKeyMatcher(keys)(presented);

/** The key as the hosted API documented it (`apiKey`), as used in practice (`api-key`), or as a bearer token. */
export const presentedApiKey = (headers: Headers): string | null => {
  const direct = headers.get("apiKey") ?? headers.get("api-key");
  if (direct) return direct;
  const auth = headers.get("authorization");
  return auth?.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : null;
};

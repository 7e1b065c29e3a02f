const encoder = new TextEncoder();

const digest = async (value: string): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));

/**
 * Compares a presented key with the configured ones in time that does not depend on where they
 * differ: both sides are hashed to fixed-length digests first, then compared without early exit.
 */
export const matchesApiKey = async (presented: string, keys: readonly string[]): Promise<boolean> => {
  const given = await digest(presented);
  let matched = false;
  for (const key of keys) {
    const expected = await digest(key);
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff |= (expected[i] ?? 0) ^ (given[i] ?? 0);
    matched = matched || diff === 0;
  }
  return matched;
};

/** The key as the hosted API documented it (`apiKey`), as used in practice (`api-key`), or as a bearer token. */
export const presentedApiKey = (headers: Headers): string | null => {
  const direct = headers.get("apiKey") ?? headers.get("api-key");
  if (direct) return direct;
  const auth = headers.get("authorization");
  return auth?.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : null;
};

/**
 * TXT lookups over DNS over HTTPS (RFC 8484): a Worker has no system resolver, so the question goes
 * to a resolver's `/dns-query` as a wire-format message in a POST, and the answer comes back the
 * same way. Only what a TXT lookup needs is encoded and read: one question, the answer section's
 * TXT records (names compressed or not), the response code.
 */

export type TxtLookup =
  /** A definite answer: the TXT records at the name, each the concatenation of its character-strings (none for a name that does not exist). */
  | { ok: true; records: string[] }
  /** The resolver could not be asked or did not answer usably: nothing is known. */
  | { ok: false; reason: string };

const TXT = 16;
const IN = 1;
const TIMEOUT_MS = 5_000;

/** The query message: id 0 (RFC 8484 §4.1, for caching), recursion desired, one TXT question. */
export const encodeTxtQuery = (name: string): Uint8Array => {
  const labels = name.replace(/\.$/, "").split(".");
  const encoder = new TextEncoder();
  const parts: number[] = [0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of labels) {
    const bytes = encoder.encode(label);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0, 0, TXT, 0, IN);
  return Uint8Array.from(parts);
};

/** Past a (possibly compressed) name at `offset`: the offset after it. */
const skipName = (message: Uint8Array, offset: number): number => {
  let at = offset;
  while (at < message.length) {
    const length = message[at] as number;
    if (length === 0) return at + 1;
    // A pointer (two bytes) ends the name where it stands.
    if ((length & 0xc0) === 0xc0) return at + 2;
    at += 1 + length;
  }
  throw new Error("truncated name");
};

/** The TXT records of a response message, or the reason it is not an answer. */
export const decodeTxtAnswer = (message: Uint8Array): TxtLookup => {
  if (message.length < 12) return { ok: false, reason: "the resolver's answer is not a DNS message" };
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const rcode = view.getUint8(3) & 0x0f;
  // NXDOMAIN: the name does not exist, a definite "no record".
  if (rcode === 3) return { ok: true, records: [] };
  if (rcode !== 0) return { ok: false, reason: `the resolver answered ${RCODES[rcode] ?? `rcode ${rcode}`}` };
  const questions = view.getUint16(4);
  const answers = view.getUint16(6);
  const decoder = new TextDecoder();
  const records: string[] = [];
  try {
    let at = 12;
    for (let i = 0; i < questions; i++) at = skipName(message, at) + 4;
    for (let i = 0; i < answers; i++) {
      at = skipName(message, at);
      const type = view.getUint16(at);
      const length = view.getUint16(at + 8);
      const start = at + 10;
      if (start + length > message.length) throw new Error("truncated record");
      if (type === TXT) {
        let text = "";
        for (let p = start; p < start + length; ) {
          const size = message[p] as number;
          text += decoder.decode(message.subarray(p + 1, p + 1 + size));
          p += 1 + size;
        }
        records.push(text);
      }
      at = start + length;
    }
  } catch {
    return { ok: false, reason: "the resolver's answer is not a well-formed DNS message" };
  }
  return { ok: true, records };
};

const RCODES: Record<number, string> = { 1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED" };

/** Asks the resolver at `url` for the TXT records at `name`. Never throws: a failure is a reason. */
export const lookupTxt = async (url: string, name: string): Promise<TxtLookup> => {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/dns-message", accept: "application/dns-message" },
      body: encodeTxtQuery(name),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { ok: false, reason: timedOut ? "the resolver did not answer in time" : "the resolver could not be reached" };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, reason: `the resolver answered HTTP ${response.status}` };
  }
  return decodeTxtAnswer(new Uint8Array(await response.arrayBuffer()));
};

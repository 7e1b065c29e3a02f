import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";

// The test DNS server (test/dns, started by scripts/with-dns.sh) spoken to as a DNS over HTTPS
// client speaks to a resolver (RFC 8484): queries built and answers read in wire format by hand
// here, so that what the server is proved to do does not depend on the code it is there to test.

const dohUrl = process.env.DNS_DOH_URL ?? "";
const controlUrl = process.env.DNS_CONTROL_URL ?? "";

const TYPE_A = 1;
const TYPE_TXT = 16;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;
const FLAG_AA = 0x0400;

/** A standard query for one name and type (class IN), recursion desired, as a stub resolver sends it. */
const encodeQuery = (name: string, type: number, id = 0): Uint8Array<ArrayBuffer> => {
  const labels = name.replace(/\.$/, "").split(".");
  const bytes: number[] = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of labels) {
    const encoded = new TextEncoder().encode(label);
    bytes.push(encoded.length, ...encoded);
  }
  bytes.push(0, type >> 8, type & 0xff, 0, 1);
  return Uint8Array.from(bytes);
};

interface Answer {
  name: string;
  type: number;
  ttl: number;
  /** TXT only: the record's character-strings, in order. */
  strings: string[];
}

interface Reply {
  id: number;
  flags: number;
  rcode: number;
  answers: Answer[];
}

/** Reads a reply: the header, past the question, and the answer section (TXT data decoded). */
const decodeReply = (message: Uint8Array): Reply => {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  // A name at `at`, following compression pointers; `next` is where the data after it starts.
  const readName = (at: number): { name: string; next: number } => {
    const labels: string[] = [];
    let next = -1;
    for (let hops = 0; hops < 64; hops++) {
      const length = view.getUint8(at);
      if (length === 0) return { name: `${labels.join(".")}.`, next: next < 0 ? at + 1 : next };
      if ((length & 0xc0) === 0xc0) {
        if (next < 0) next = at + 2;
        at = view.getUint16(at) & 0x3fff;
        continue;
      }
      labels.push(new TextDecoder().decode(message.subarray(at + 1, at + 1 + length)));
      at += 1 + length;
    }
    throw new Error("name compression loop");
  };
  const flags = view.getUint16(2);
  let at = 12;
  for (let i = 0; i < view.getUint16(4); i++) at = readName(at).next + 4;
  const answers: Answer[] = [];
  for (let i = 0; i < view.getUint16(6); i++) {
    const { name, next } = readName(at);
    const type = view.getUint16(next);
    const ttl = view.getUint32(next + 4);
    const length = view.getUint16(next + 8);
    const data = message.subarray(next + 10, next + 10 + length);
    const strings: string[] = [];
    if (type === TYPE_TXT) {
      for (let s = 0; s < data.length; s += 1 + (data[s] ?? 0)) strings.push(new TextDecoder().decode(data.subarray(s + 1, s + 1 + (data[s] ?? 0))));
    }
    answers.push({ name, type, ttl, strings });
    at = next + 10 + length;
  }
  return { id: view.getUint16(0), flags, rcode: flags & 0x0f, answers };
};

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");

const post = (body: Uint8Array<ArrayBuffer>, contentType = "application/dns-message"): Promise<Response> =>
  fetch(dohUrl, { method: "POST", headers: { "content-type": contentType, accept: "application/dns-message" }, body });

/** Asks over DoH (POST unless `get`) and reads the reply, which must be a DNS message. */
const ask = async (name: string, type = TYPE_TXT, { id = 0, get = false } = {}): Promise<Reply> => {
  const query = encodeQuery(name, type, id);
  const res = get ? await fetch(`${dohUrl}?dns=${base64url(query)}`, { headers: { accept: "application/dns-message" } }) : await post(query);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/dns-message");
  return decodeReply(new Uint8Array(await res.arrayBuffer()));
};

const published = new Set<string>();

const publish = async (name: string, txt: string[]): Promise<void> => {
  published.add(name);
  const res = await fetch(`${controlUrl}/records/${name}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ txt }) });
  expect(res.status).toBe(200);
};

const unpublish = async (name: string): Promise<void> => {
  const res = await fetch(`${controlUrl}/records/${name}`, { method: "DELETE" });
  expect(res.status).toBe(204);
};

/** A name of this run's own under a test TLD, so runs sharing a server do not meet. */
const fresh = (label: string): string => `${label}.${randomUUID().slice(0, 8)}.example.test`;

describe.skipIf(!dohUrl)("the test DNS server over DNS over HTTPS (skipped without DNS_DOH_URL: run under scripts/with-dns.sh)", () => {
  afterAll(async () => {
    for (const name of published) await fetch(`${controlUrl}/records/${name}`, { method: "DELETE" });
  });

  it("answers a published TXT record with authority, TTL 60, the query's ID echoed", async () => {
    const name = fresh("_orgservice-verification");
    await publish(name, ["orgservice-verification=abc123", "v=spf1 -all"]);

    for (const id of [0, 0xbeef]) {
      const reply = await ask(name, TYPE_TXT, { id });
      expect(reply.id).toBe(id);
      expect(reply.rcode).toBe(RCODE_NOERROR);
      expect(reply.flags & FLAG_AA).toBe(FLAG_AA);
      expect(reply.answers.map((a) => [a.name, a.type, a.ttl, a.strings.join("")])).toEqual([
        [`${name}.`, TYPE_TXT, 60, "orgservice-verification=abc123"],
        [`${name}.`, TYPE_TXT, 60, "v=spf1 -all"],
      ]);
    }
  });

  it("takes names in any case, with or without the trailing dot", async () => {
    const name = fresh("mixed");
    await publish(`${name.toUpperCase()}.`, ["value"]);
    expect((await ask(name)).answers.map((a) => a.strings)).toEqual([["value"]]);
    expect((await ask(name.toUpperCase())).answers.map((a) => a.strings)).toEqual([["value"]]);
    const listed = (await (await fetch(`${controlUrl}/records`)).json()) as Record<string, { txt: string[] }>;
    expect(listed[`${name}.`]).toEqual({ txt: ["value"] });
  });

  it("replaces a name's records on publishing again, and answers NXDOMAIN once they are removed", async () => {
    const name = fresh("_replaced");
    await publish(name, ["first"]);
    await publish(name, ["second"]);
    expect((await ask(name)).answers.map((a) => a.strings.join(""))).toEqual(["second"]);

    await unpublish(name);
    const gone = await ask(name);
    expect(gone.rcode).toBe(RCODE_NXDOMAIN);
    expect(gone.flags & FLAG_AA).toBe(FLAG_AA);
    expect(gone.answers).toEqual([]);
    // Removing again is not an error: a test can clean up unconditionally.
    await unpublish(name);
  });

  it("answers NXDOMAIN for a name never published, and NOERROR with no answers for a held name asked another type", async () => {
    expect((await ask(fresh("never"))).rcode).toBe(RCODE_NXDOMAIN);

    const name = fresh("held");
    await publish(name, ["value"]);
    const other = await ask(name, TYPE_A);
    expect(other.rcode).toBe(RCODE_NOERROR);
    expect(other.answers).toEqual([]);
    // The name above a held one exists too (it has something below it): NOERROR, no answers.
    const parent = await ask(name.slice(name.indexOf(".") + 1));
    expect(parent.rcode).toBe(RCODE_NOERROR);
    expect(parent.answers).toEqual([]);
  });

  it("answers the GET form, the query base64url-encoded without padding", async () => {
    const name = fresh("get");
    await publish(name, ["by-get"]);
    const query = encodeQuery(name, TYPE_TXT, 7);
    expect(base64url(query)).not.toMatch(/[=+/]/);
    const reply = await ask(name, TYPE_TXT, { id: 7, get: true });
    expect(reply.id).toBe(7);
    expect(reply.answers.map((a) => a.strings.join(""))).toEqual(["by-get"]);
  });

  it("splits a value longer than 255 bytes into character-strings that join back into it", async () => {
    const name = fresh("long");
    const value = `orgservice-verification=${"x".repeat(600)}\\end`;
    await publish(name, [value]);
    const [answer] = (await ask(name)).answers;
    expect(answer?.strings.map((s) => Buffer.byteLength(s))).toEqual([255, 255, value.length - 510]);
    expect(answer?.strings.join("")).toBe(value);
  });

  it("refuses what is not a DoH query: 400 for a malformed message or parameter, 415 for another content type", async () => {
    expect((await post(Uint8Array.from([1, 2, 3]))).status).toBe(400);
    expect((await post(new Uint8Array(0))).status).toBe(400);
    expect((await post(encodeQuery("example.test", TYPE_TXT), "application/json")).status).toBe(415);
    expect((await fetch(`${dohUrl}?dns=!!!`)).status).toBe(400);
    expect((await fetch(dohUrl)).status).toBe(400);
    // A valid message that is a response, not a query.
    const response = encodeQuery("example.test", TYPE_TXT);
    response[2] = 0x81;
    expect((await post(response)).status).toBe(400);
  });

  it("refuses to publish under what is not a domain name, or without a txt list", async () => {
    const put = (name: string, body: string) => fetch(`${controlUrl}/records/${name}`, { method: "PUT", body });
    expect((await put("bad..name", '{"txt":[]}')).status).toBe(400);
    expect((await put(fresh("nobody"), "{}")).status).toBe(400);
    expect((await put(fresh("nobody"), '{"txt":"not a list"}')).status).toBe(400);
  });
});

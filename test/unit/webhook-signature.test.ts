import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  activeSecrets,
  decodeSecret,
  generateSecret,
  isValidSecret,
  ROTATION_OVERLAP_MS,
  rotate,
  SECRET_PREFIX,
  sign,
  signatureHeader,
  webhookHeaders,
  webhookTimestamp,
} from "../../src/domain/webhooks/signature";

// The specification's own library (standardwebhooks on npm) is the receiver: what it accepts is
// what any Standard Webhooks receiver accepts. It checks the timestamp against its own clock, so
// attempts are signed at the real time.
const body = JSON.stringify({ type: "organization.created", timestamp: "2026-11-26T12:00:00.000Z", data: { id: "6745f0c2a1b2c3d4e5f60718" } });
const id = "evt_6745f0c2a1b2c3d4e5f60718";

const verify = (secret: string, payload: string, headers: Record<string, string>) => new Webhook(secret).verify(payload, headers);

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Base64 of 25 bytes ends in "X==" where only the top two bits of X count: setting a low bit
// spells the same bytes another way, which atob accepts.
const nonCanonical = (b64: string): string => {
  const last = b64.length - 3;
  const twin = `${b64.slice(0, last)}${ALPHABET[ALPHABET.indexOf(b64.charAt(last)) | 1]}==`;
  expect(atob(twin)).toBe(atob(b64));
  return `whsec_${twin}`;
};

describe("webhook secrets", () => {
  it("are whsec_ and padded base64 of 32 random bytes by default, 24 to 64 on request, and decode back", () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(decodeSecret(secret)?.length).toBe(32);
    expect(generateSecret()).not.toBe(secret);
    for (const n of [24, 33, 64]) {
      const other = generateSecret(n);
      const key = decodeSecret(other);
      expect(key?.length).toBe(n);
      expect(SECRET_PREFIX + btoa(String.fromCharCode(...(key ?? [])))).toBe(other);
    }
    for (const n of [0, 23, 65, 32.5]) expect(() => generateSecret(n)).toThrow(TypeError);
  });

  it("are refused unless whsec_ + canonical base64 of 24 to 64 bytes", () => {
    const key = btoa("k".repeat(32));
    expect(isValidSecret(`whsec_${key}`)).toBe(true);
    for (const bad of [
      key, // no prefix
      `WHSEC_${key}`,
      `whsec_${key.replace(/=+$/, "")}`, // padding missing
      `whsec_ ${key}`,
      `whsec_${key.slice(0, 20)}\n${key.slice(20)}`,
      `whsec_${key.replace(/\+|\//g, "-")}x`,
      `whsec_${btoa("k".repeat(23))}`,
      `whsec_${btoa("k".repeat(65))}`,
      nonCanonical(btoa("k".repeat(25))),
      "whsec_",
    ]) {
      expect(isValidSecret(bad), bad).toBe(false);
    }
  });

  it("are accepted by the specification's library as they are", () => {
    const secret = generateSecret(64);
    expect(() => new Webhook(secret)).not.toThrow();
  });
});

describe("webhook signatures", () => {
  it("are the ones the specification's library computes, byte for byte", async () => {
    const secret = generateSecret();
    const at = new Date("2026-11-26T12:00:00.999Z");
    const ours = await sign(secret, id, webhookTimestamp(at), body);
    expect(ours).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(ours).toBe(new Webhook(secret).sign(id, at, body));
    // A body beyond ASCII is signed as its UTF-8 bytes.
    const accented = JSON.stringify({ name: "Café 株式会社 🚀" });
    expect(await sign(secret, id, webhookTimestamp(at), accented)).toBe(new Webhook(secret).sign(id, at, accented));
  });

  it("carry the three headers, timestamp in whole seconds, and verify with the specification's library", async () => {
    const secret = generateSecret();
    const now = new Date();
    const headers = await webhookHeaders({ id, body, secrets: { current: secret } }, now);
    expect(Object.keys(headers).sort()).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    expect(headers["webhook-id"]).toBe(id);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verify(secret, body, { ...headers })).toEqual(JSON.parse(body));
  });

  it("fail verification when the body, the timestamp or the id was changed, or with another secret", async () => {
    const secret = generateSecret();
    const headers = { ...(await webhookHeaders({ id, body, secrets: { current: secret } }, new Date())) };
    const fails = (payload: string, h: Record<string, string>, key = secret) =>
      expect(() => verify(key, payload, h)).toThrow(new WebhookVerificationError("No matching signature found"));
    fails(body.replace("created", "deleted"), headers);
    fails(`${body} `, headers);
    fails(body, { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 1) });
    fails(body, { ...headers, "webhook-id": `${id}x` });
    fails(body, headers, generateSecret());
  });

  it("bind the attempt's time: an attempt signed ten minutes ago is refused as a replay", async () => {
    const secret = generateSecret();
    const headers = await webhookHeaders({ id, body, secrets: { current: secret } }, new Date(Date.now() - 10 * 60_000));
    expect(() => verify(secret, body, { ...headers })).toThrow("Message timestamp too old");
  });

  it("refuse an id that could shift the signed content's separators, and a timestamp that is not whole seconds", async () => {
    const secret = generateSecret();
    for (const bad of ["", "evt.1", "evt 1", "évt", "x".repeat(129)]) await expect(sign(secret, bad, 1, body)).rejects.toThrow(TypeError);
    for (const bad of [1.5, -1, Number.NaN]) await expect(sign(secret, id, bad, body)).rejects.toThrow(TypeError);
    await expect(sign("whsec_short", id, 1, body)).rejects.toThrow(TypeError);
    await expect(signatureHeader([], id, 1, body)).rejects.toThrow(TypeError);
  });
});

describe("secret rotation", () => {
  it("signs with the new and the previous secret during the overlap, so a receiver holding either verifies", async () => {
    const previous = generateSecret();
    const next = generateSecret();
    const rotatedAt = new Date();
    const secrets = rotate({ current: previous }, next, rotatedAt);
    expect(secrets.previous?.expiresAt.getTime()).toBe(rotatedAt.getTime() + ROTATION_OVERLAP_MS);
    expect(activeSecrets(secrets, rotatedAt)).toEqual([next, previous]);

    const headers = { ...(await webhookHeaders({ id, body, secrets }, rotatedAt)) };
    const signatures = headers["webhook-signature"]?.split(" ") ?? [];
    expect(signatures).toHaveLength(2);
    expect(signatures[0]).toBe(new Webhook(next).sign(id, rotatedAt, body));
    expect(signatures[1]).toBe(new Webhook(previous).sign(id, rotatedAt, body));
    expect(verify(next, body, headers)).toEqual(JSON.parse(body));
    expect(verify(previous, body, headers)).toEqual(JSON.parse(body));
    expect(() => verify(generateSecret(), body, headers)).toThrow(WebhookVerificationError);
  });

  it("drops the previous secret when the overlap ends", async () => {
    const previous = generateSecret();
    const next = generateSecret();
    const now = new Date();
    const secrets = rotate({ current: previous }, next, new Date(now.getTime() - ROTATION_OVERLAP_MS));
    expect(activeSecrets(secrets, new Date(now.getTime() - 1))).toEqual([next, previous]);
    expect(activeSecrets(secrets, now)).toEqual([next]);
    const headers = { ...(await webhookHeaders({ id, body, secrets }, now)) };
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(verify(next, body, headers)).toEqual(JSON.parse(body));
    expect(() => verify(previous, body, headers)).toThrow(WebhookVerificationError);
  });

  it("keeps two signatures at most: a second rotation within the overlap retires the oldest secret", () => {
    const [a, b, c] = [generateSecret(), generateSecret(), generateSecret()];
    const now = new Date();
    const twice = rotate(rotate({ current: a }, b, now), c, new Date(now.getTime() + 1000));
    expect(activeSecrets(twice, new Date(now.getTime() + 2000))).toEqual([c, b]);
    expect(() => rotate({ current: a }, "whsec_nope", now)).toThrow(TypeError);
  });
});

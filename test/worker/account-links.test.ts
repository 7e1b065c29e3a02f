import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { type AccountDoc, USERS } from "../../src/domain/accounts/accounts";
import { bearer, call, createOrg, env, invite, loginToken, postJson, roundTrips, storeClient, uniqueName, useOwnDatabase } from "../helpers";
import { headersOf, type MailpitMessage, mailpitUrl, mailTo, nthMailTo } from "./mail-mailpit";

/**
 * Password reset and address verification through the HTTP routes, with the real Mailpit: each
 * link is read from the message Mailpit received and followed as its holder would.
 */
const database = useOwnDatabase("account_links", { mail: true });
const mailNumber = (email: string, count: number) => nthMailTo(database, email, count);

const tokenIn = (mail: MailpitMessage, path: string): string => {
  const token = mail.Text.match(new RegExp(`/${path}#token=([A-Za-z0-9_-]+)`))?.[1];
  if (!token) throw new Error(`no ${path} link in "${mail.Subject}"`);
  return token;
};

const askReset = (email: string) => postJson("/auth/password-reset", { email });
const confirmReset = (token: string, new_password: string) => postJson("/auth/password-reset/confirm", { token, new_password });

describe.skipIf(!mailpitUrl)("password reset from the mailed link", () => {
  it("sets the new password, revokes every earlier token, publishes the change and mails a notice; the link works once", async () => {
    const org = await createOrg(uniqueName("Reset"));
    const oldToken = await loginToken(org.email, org.password);
    const asked = await askReset(org.email.toUpperCase());
    expect(asked.status).toBe(202);
    // Nothing before the answer: the account is looked up, and the link written and queued, after it.
    expect(roundTrips(asked)).toBe(0);
    const token = tokenIn(await mailNumber(org.email, 1), "reset-password");

    const done = await confirmReset(token, "Fresh-Pass-123");
    expect(done.status).toBe(200);
    expect(done.headers.get("cache-control")).toBe("no-store");
    // The account by the link's user id, the tokens revoked, the link spent with the new hash and its event, the event relayed.
    expect(roundTrips(done)).toBe(4);
    const fresh = await loginToken(org.email, "Fresh-Pass-123");
    expect((await postJson("/admin/login", { email: org.email, password: org.password })).status).toBe(401);
    expect((await call("/org/events?limit=50", { headers: bearer(oldToken) })).status).toBe(401);
    const feed = (await (await call("/org/events?limit=50", { headers: bearer(fresh) })).json()) as { events: { type: string; data: { by?: string } }[] };
    expect(feed.events.filter((e) => e.type === "admin.password_changed").map((e) => e.data.by)).toEqual(["reset"]);
    expect((await mailNumber(org.email, 2)).Subject).toMatch(/password was changed/);

    const again = await confirmReset(token, "Another-Pass-123");
    expect(again.status).toBe(410);
    expect(await again.json()).toEqual({ detail: "This link is invalid, expired, replaced by a later one or already used" });
    await loginToken(org.email, "Fresh-Pass-123");
  });

  it("refuses a link replaced by a later one, a malformed token, and a too-short password (changing nothing)", async () => {
    const org = await createOrg(uniqueName("Replaced"));
    await askReset(org.email);
    const first = tokenIn(await mailNumber(org.email, 1), "reset-password");
    await askReset(org.email);
    const second = tokenIn(await mailNumber(org.email, 2), "reset-password");
    expect(second).not.toBe(first);
    expect((await confirmReset(first, "First-Pass-123")).status).toBe(410);
    // One character changed (never to itself: a token may end in "A").
    const tampered = `${second.slice(0, -1)}${second.endsWith("A") ? "E" : "A"}`;
    expect((await confirmReset(tampered, "Tamper-Pass-123")).status).toBe(410);
    expect((await confirmReset("not a token", "Tamper-Pass-123")).status).toBe(410);
    expect((await confirmReset(second, "short")).status).toBe(422);
    await loginToken(org.email, org.password);
    expect((await confirmReset(second, "Second-Pass-123")).status).toBe(200);
    await loginToken(org.email, "Second-Pass-123");
  });

  it("refuses an expired link, and leaves the password as it was", async () => {
    const org = await createOrg(uniqueName("Expired"));
    await askReset(org.email);
    const token = tokenIn(await mailNumber(org.email, 1), "reset-password");
    // Its 30 minutes over: the stored expiry moved into the past, as time would.
    const accounts = storeClient(database).collection<AccountDoc>(USERS);
    await accounts.updateOne({ email: org.email }, { $set: { "password_reset.expires_at": new Date(Date.now() - 1000) } });
    expect((await confirmReset(token, "Late-Pass-123")).status).toBe(410);
    await loginToken(org.email, org.password);
  });

  it("ends a lockout: the mailbox's holder gets back in after a guesser locked the address", async () => {
    const org = await createOrg(uniqueName("Locked"));
    let status = 0;
    for (let n = 0; n < 12 && status !== 429; n++) status = (await postJson("/admin/login", { email: org.email, password: "wrong-guess" })).status;
    expect(status).toBe(429);
    await askReset(org.email);
    expect((await confirmReset(tokenIn(await mailNumber(org.email, 1), "reset-password"), "Unlocked-123")).status).toBe(200);
    await loginToken(org.email, "Unlocked-123");
  });

  it("mails the link within moments of the answer, sent by the dispatcher's own alarm", async () => {
    const org = await createOrg(uniqueName("Latency"));
    const started = Date.now();
    const asked = await askReset(org.email);
    expect(asked.status).toBe(202);
    const [mail] = await mailTo(org.email, 1, 10_000);
    expect(mail?.Subject).toMatch(/Reset your/);
    // From the request to the message in Mailpit (polled every 100 ms), of which a random quarter to
    // whole second is the dispatcher's deliberate wait (mail/outbox.ts, queueReset).
    console.info(`reset from request to mailbox: ${Date.now() - started} ms (store=${env.DATA_API_URL ? "gateway" : "embedded"})`);
  });

  it("answers an unknown address exactly as a known one, and mails it nothing", async () => {
    const org = await createOrg(uniqueName("Known"));
    const unknown = `nobody.${Date.now().toString(36)}@member.test`;
    const [known, stranger] = await Promise.all([askReset(org.email), askReset(unknown)]);
    expect(stranger.status).toBe(known.status);
    expect(await stranger.text()).toBe(await known.text());
    const shape = (res: Response) => [...res.headers].filter(([name]) => !["x-request-id", "date", "server-timing", "x-data-round-trips"].includes(name));
    expect(shape(stranger)).toEqual(shape(known));
    expect(known.headers.get("x-data-round-trips")).toBe(stranger.headers.get("x-data-round-trips"));
    await mailNumber(org.email, 1);
    expect(await mailTo(unknown, 1, 300)).toEqual([]);
  });

  it("throttles per address, known or not, with the same 429", async () => {
    const address = `flood.${Date.now().toString(36)}@member.test`;
    const statuses: number[] = [];
    for (let n = 0; n < 7; n++) statuses.push((await askReset(address)).status);
    expect(statuses.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
    expect(statuses.at(-1)).toBe(429);
  });

  it("cannot inject headers through the address asked about", async () => {
    const hostile = await askReset("victim@example.com\r\nBcc: thief@evil.test");
    expect(hostile.status).toBe(202);
    expect(await mailTo("thief@evil.test", 1, 300)).toEqual([]);
  });
});

describe.skipIf(!mailpitUrl)("address verification from the mailed link", () => {
  it("verifies the address: the member listing and the next token say so", async () => {
    const org = await createOrg(uniqueName("Verify"));
    const token = await loginToken(org.email, org.password);
    expect(decodeJwt(token).email_verified).toBeUndefined();
    const listed = async () =>
      ((await (await call("/org/members", { headers: bearer(token) })).json()) as { members: { email: string; email_verified: boolean }[] }).members;
    expect((await listed()).map((m) => m.email_verified)).toEqual([false]);

    const asked = await postJson("/auth/verify-email", {}, bearer(token));
    expect(asked.status).toBe(202);
    // In parallel: is the token current, the account; the link is written and queued after the answer.
    expect(roundTrips(asked)).toBe(2);
    const mail = await mailNumber(org.email, 1);
    expect(mail.Subject).toMatch(/Confirm your address/);
    const headers = await headersOf(mail.ID);
    expect(headers.To).toEqual([org.email]);
    const link = tokenIn(mail, "verify-email");
    const confirmed = await postJson("/auth/verify-email/confirm", { token: link });
    expect(confirmed.status).toBe(200);
    // The link spent and the address marked, then the domain it is at looked up: an organization whose auto_join domain it is would take it in.
    expect(roundTrips(confirmed)).toBe(2);
    expect(await confirmed.json()).toEqual({ detail: "address verified", joined: [] });
    expect((await postJson("/auth/verify-email/confirm", { token: link })).status).toBe(410);

    expect((await listed()).map((m) => m.email_verified)).toEqual([true]);
    expect(decodeJwt(await loginToken(org.email, org.password)).email_verified).toBe(true);
    const again = await postJson("/auth/verify-email", {}, bearer(token));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ detail: "already verified" });
  });

  it("shows each member's own verification, and a revoked token asks for nothing", async () => {
    const org = await createOrg(uniqueName("Members"));
    const owner = await loginToken(org.email, org.password);
    const guest = `guest.${Date.now().toString(36)}@member.test`;
    // Accepted with the inviter's token, not the mailed link (message 1): the address stays to prove.
    const { token: invitation } = await invite(owner, guest);
    const joined = await postJson("/invitations/accept", { token: invitation, password: "Guest-Pass-123" });
    expect(joined.status).toBe(200);
    const guestToken = ((await joined.json()) as { access_token: string }).access_token;
    await postJson("/auth/verify-email", {}, bearer(guestToken));
    expect((await postJson("/auth/verify-email/confirm", { token: tokenIn(await mailNumber(guest, 2), "verify-email") })).status).toBe(200);
    const page = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: { email: string; email_verified: boolean }[] };
    expect(Object.fromEntries(page.members.map((m) => [m.email, m.email_verified]))).toEqual({ [org.email]: false, [guest]: true });

    expect((await postJson("/admin/logout", {}, bearer(owner))).status).toBe(200);
    expect((await postJson("/auth/verify-email", {}, bearer(owner))).status).toBe(401);
    expect(await mailTo(org.email, 1, 300)).toEqual([]);
  });
});

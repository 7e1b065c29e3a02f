import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { bearer, call, createOrg, env, invite, loginToken, postJson, roundTrips, uniqueName, useOwnDatabase } from "../helpers";
import { headersOf, type MailpitMessage, mailpitUrl, mailTo, nthMailTo } from "./mail-mailpit";

/**
 * Invitations mailed to their address, with the real Mailpit: the link is read from the message
 * and followed. Accepting from it proves the address; the token answered to the inviter does not.
 */
const database = useOwnDatabase("invitation_mail", { mail: true });
const mailNumber = (email: string, count: number) => nthMailTo(database, email, count);

const linkIn = (mail: MailpitMessage): string => {
  const token = mail.Text.match(/\/accept#token=([A-Za-z0-9_-]+)/)?.[1];
  if (!token) throw new Error(`no accept link in "${mail.Subject}"`);
  return token;
};

const fresh = (label: string) => `${label}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@member.test`;

type Listed = { email: string; delivery: { status: string; attempts: number; last_error: string | null } | null };
const listed = async (owner: string): Promise<Listed[]> =>
  ((await (await call("/org/invitations", { headers: bearer(owner) })).json()) as { invitations: Listed[] }).invitations;

describe.skipIf(!mailpitUrl)("invitations by mail", () => {
  it("mails who invited and to what; a new account accepts from the link, and its address is verified", async () => {
    const org = await createOrg(uniqueName("Mailed"));
    const owner = await loginToken(org.email, org.password);
    const guest = fresh("guest");
    const created = await postJson("/org/invitations", { email: guest, role: "member" }, bearer(owner));
    expect(created.status).toBe(201);
    // The answer is today's: the message is queued after it, at no round trip of the answer's.
    expect(roundTrips(created)).toBe(3);
    const mail = await mailNumber(guest, 1);
    expect(mail.Subject).toBe(`${org.email} invited you to ${org.name} on Organization Management`);
    expect(mail.Text).toContain(org.name);
    expect((await headersOf(mail.ID)).To).toEqual([guest]);
    const { token: answered } = (await created.json()) as { token: string };
    expect(mail.Text).not.toContain(answered);

    const [pending] = await listed(owner);
    expect(pending?.delivery).toEqual({ status: "sent", attempts: 1, last_error: null });
    // The organization, the invitations, and the outbox for their delivery.
    expect(roundTrips(await call("/org/invitations", { headers: bearer(owner) }))).toBe(3);

    const accepted = await postJson("/invitations/accept", { token: linkIn(mail), password: "Guest-Pass-123" });
    expect(accepted.status).toBe(200);
    // An accept's six, and the mark that verifies the address.
    expect(roundTrips(accepted)).toBe(7);
    const token = ((await accepted.json()) as { access_token: string }).access_token;
    expect(decodeJwt(token).email_verified).toBe(true);
    const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: { email: string; email_verified: boolean }[] };
    expect(Object.fromEntries(members.members.map((m) => [m.email, m.email_verified]))).toEqual({ [org.email]: false, [guest]: true });
    expect((await postJson("/invitations/accept", { token: linkIn(mail), password: "Guest-Pass-123" })).status).toBe(410);
  });

  it("mails the invitation within moments of the answer, sent by the dispatcher's own alarm", async () => {
    const org = await createOrg(uniqueName("Prompt"));
    const owner = await loginToken(org.email, org.password);
    const guest = fresh("prompt");
    const asked = Date.now();
    expect((await postJson("/org/invitations", { email: guest, role: "member" }, bearer(owner))).status).toBe(201);
    const [mail] = await mailTo(guest, 1, 10_000);
    expect(mail?.Subject).toContain(org.name);
    // From the request, through its answer and its work after it, to the message in Mailpit (polled every 100 ms).
    console.info(`invitation from request to mailbox: ${Date.now() - asked} ms (store=${env.DATA_API_URL ? "gateway" : "embedded"})`);
  });

  it("an existing account accepts from the link with its password and is verified; the inviter's token verifies nothing", async () => {
    const org = await createOrg(uniqueName("Inviter"));
    const owner = await loginToken(org.email, org.password);
    const holder = await createOrg(uniqueName("Holder"));
    await invite(owner, holder.email);
    const viaMail = await postJson("/invitations/accept", { token: linkIn(await mailNumber(holder.email, 1)), password: holder.password });
    expect(viaMail.status).toBe(200);
    expect(decodeJwt(((await viaMail.json()) as { access_token: string }).access_token).email_verified).toBe(true);

    const other = fresh("handed");
    const { token } = await invite(owner, other);
    await mailNumber(other, 1);
    const byHand = await postJson("/invitations/accept", { token, password: "Handed-Pass-123" });
    expect(byHand.status).toBe(200);
    expect(decodeJwt(((await byHand.json()) as { access_token: string }).access_token).email_verified).toBeUndefined();
  });

  it("the mailed link and the inviter's token accepted at once: exactly one joins", async () => {
    const org = await createOrg(uniqueName("Race"));
    const owner = await loginToken(org.email, org.password);
    const guest = fresh("race");
    const { token } = await invite(owner, guest);
    const link = linkIn(await mailNumber(guest, 1));
    const answers = await Promise.all([
      postJson("/invitations/accept", { token: link, password: "Race-Pass-123" }),
      postJson("/invitations/accept", { token, password: "Race-Pass-123" }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 410]);
    const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: { email: string }[] };
    expect(members.members.filter((m) => m.email === guest)).toHaveLength(1);
  });

  it("a revoked invitation's mailed link is refused, and a hostile organization name adds no header", async () => {
    const name = `${uniqueName("Evil")}\r\nBcc: thief@evil.test`;
    const res = await postJson("/org/create", { organization_name: name, email: fresh("evilowner"), password: "Test1234" });
    // A name with line breaks is refused at the door, or kept as text: either way no header comes of it.
    const owner = res.status === 200 ? await loginToken(((await res.json()) as { admin_email: string }).admin_email, "Test1234") : null;
    if (owner) {
      const guest = fresh("target");
      const { id } = await invite(owner, guest);
      const mail = await mailNumber(guest, 1);
      const headers = await headersOf(mail.ID);
      expect(headers.Bcc).toBeUndefined();
      expect(await mailTo("thief@evil.test", 1, 300)).toEqual([]);
      expect((await call(`/org/invitations/${id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(200);
      expect((await postJson("/invitations/accept", { token: linkIn(mail), password: "Target-Pass-123" })).status).toBe(410);
    } else expect(res.status).toBe(422);
  });
});

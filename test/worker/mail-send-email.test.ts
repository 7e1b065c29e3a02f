import type { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { createDeps } from "../../src/deps";
import { MAIL_OUTBOX, type MailDoc, mailStatus, newMail, queueMail, sendDueMail } from "../../src/domain/mail/outbox";
import { invitationMessage } from "../../src/domain/mail/templates";
import { mailTransport } from "../../src/mail/transport";
import { env, useOwnDatabase } from "../helpers";

/**
 * MAIL_TRANSPORT=send_email: the messages leave through Cloudflare's Email Service binding, here
 * Miniflare's, which checks the sender and the recipient against the lists vitest.config.ts gives
 * it (as a binding restricted by an operator does) and refuses anything else. Its refusals are
 * what a failed send looks like: recorded on the message, retried, never thrown at a caller.
 */
useOwnDatabase("mail_send_email", { mail: true });

const base = { JWT_SECRET: "x".repeat(32), MAIL_FROM: "accounts@service.test", MAIL_LINK_BASE_URL: "https://app.service.test" };
const settings = () => parseSettings({ ...(env as unknown as Record<string, unknown>), MAIL_TRANSPORT: "send_email" });
const transport = () => {
  const { mail } = settings();
  return mailTransport(mail.transport, mail.from, env.SEND_EMAIL);
};
const invitation = (to: string, name?: string) =>
  invitationMessage(settings().mail, { email: to, name }, "token-abc", { inviter: "owner@acme.test", organization: "Acme", expiresAt: new Date() });

describe("send_email settings", () => {
  it("need the binding as well as a sender and a link base", () => {
    expect(() => parseSettings({ ...base, MAIL_TRANSPORT: "send_email" })).toThrow(/SEND_EMAIL is required for MAIL_TRANSPORT=send_email/);
    // A variable of that name (an environment passed on as text) is not the binding.
    expect(() => parseSettings({ ...base, MAIL_TRANSPORT: "send_email", SEND_EMAIL: "yes" })).toThrow(/SEND_EMAIL is required/);
    expect(() => parseSettings({ JWT_SECRET: base.JWT_SECRET, MAIL_TRANSPORT: "send_email", SEND_EMAIL: env.SEND_EMAIL })).toThrow(
      /MAIL_FROM is required.*MAIL_LINK_BASE_URL is required/,
    );
    const parsed = parseSettings({ ...base, MAIL_TRANSPORT: "send_email", SEND_EMAIL: env.SEND_EMAIL });
    expect(parsed.mail.transport).toEqual({ kind: "send_email" });
    expect(parsed.mail.sends).toBe(true);
  });
});

describe("the send_email transport", () => {
  it("hands the binding a message it accepts: the configured sender, the recipient with or without a name", async () => {
    await expect(transport().send(invitation("member@email-service.test"))).resolves.toBeUndefined();
    await expect(transport().send(invitation("named@email-service.test", "Ada\r\nBcc: evil@attacker.test"))).resolves.toBeUndefined();
  });

  it("rejects with the binding's own reason for a recipient it refuses", async () => {
    await expect(transport().send(invitation("stranger@elsewhere.test"))).rejects.toThrow(/not allowed/);
  });

  it("says what is missing when the binding is not there", async () => {
    const { mail } = settings();
    await expect(mailTransport(mail.transport, mail.from, undefined).send(invitation("member@email-service.test"))).rejects.toThrow(/SEND_EMAIL/);
  });

  it("sends from the outbox, and a refusal is kept on the message for whoever asked, to be retried", async () => {
    const base = await createDeps(env);
    const deps = { ...base, settings: settings(), wakeMail: undefined };
    const accepted = newMail(deps, "invitation", invitation("member@email-service.test"));
    const refused = newMail(deps, "invitation", invitation("stranger@elsewhere.test"));
    if (!accepted || !refused) throw new Error("send_email sends");
    await queueMail(deps, accepted);
    await queueMail(deps, refused);
    await sendDueMail(deps, (m) => transport().send(m));
    expect(await mailStatus(deps, accepted.id)).toMatchObject({ status: "sent", attempts: 1 });
    const status = await mailStatus(deps, refused.id as ObjectId);
    expect(status).toMatchObject({ status: "pending", attempts: 1 });
    expect(status?.last_error).toMatch(/stranger@elsewhere\.test not allowed/);
    expect((await deps.data.collection<MailDoc>(MAIL_OUTBOX).findOne({ _id: accepted.id }))?.message).toBeNull();
  });
});

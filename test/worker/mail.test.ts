import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { invitationMessage, passwordResetMessage } from "../../src/domain/mail/templates";
import { mailTransport, UndeliverableError } from "../../src/mail/transport";
import { env, uniqueName, useOwnDatabase } from "../helpers";
import { headersOf, mailpitUrl, mailTo } from "./mail-mailpit";

/**
 * The SMTP transport from inside workerd, over `cloudflare:sockets`, to a real Mailpit on loopback
 * (scripts/with-mailpit.sh); what arrived is read back through Mailpit's API.
 */
useOwnDatabase("mail", { mail: true });

const settings = () => parseSettings(env as unknown as Record<string, unknown>);
const address = (tag: string) =>
  `${uniqueName(tag)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "")}@member.test`;

describe("mail settings", () => {
  const base = { JWT_SECRET: "x".repeat(32) };
  it("default to no transport, as before mail existed", () => {
    expect(parseSettings(base).mail.transport).toEqual({ kind: "none" });
  });
  it("refuse SMTP without a sender, a server or a link base", () => {
    expect(() => parseSettings({ ...base, MAIL_TRANSPORT: "smtp" })).toThrow(/MAIL_FROM is required.*MAIL_LINK_BASE_URL is required.*SMTP_HOST is required/);
  });
  it("refuse a sender that is not an address and links that are not http(s)", () => {
    const smtp = { ...base, MAIL_TRANSPORT: "smtp", SMTP_HOST: "mail.test", MAIL_LINK_BASE_URL: "https://app.test" };
    expect(() => parseSettings({ ...smtp, MAIL_FROM: "Evil\r\nBcc: x@y.test" })).toThrow(/MAIL_FROM/);
    expect(() => parseSettings({ ...smtp, MAIL_FROM: "a@b.test", MAIL_LINK_BASE_URL: "javascript:alert(1)" })).toThrow(/MAIL_LINK_BASE_URL/);
    expect(parseSettings({ ...smtp, MAIL_FROM: "a@b.test", SMTP_PORT: "465", SMTP_SECURITY: "tls" }).mail.transport).toMatchObject({
      kind: "smtp",
      smtp: { host: "mail.test", port: 465, security: "tls" },
    });
  });
});

describe("the password reset message", () => {
  it("escapes every value in the HTML part and keeps the link the only secret", () => {
    const mail = { ...settings().mail, productName: `Acme <b>"&'` };
    const m = passwordResetMessage(mail, { email: "a@b.test", name: `<script>alert("x")</script>` }, "tok&en<", 30);
    expect(m.html).not.toMatch(/<script>|<b>/);
    // Quotes go with the header cleaning the name shares with the To header; the rest is escaped.
    expect(m.html).toContain("&lt;script&gt;alert( x )&lt;/script&gt;");
    expect(m.html).toContain("Acme &lt;b&gt;");
    expect(m.text).toContain("https://app.service.test/reset-password#token=tok%26en%3C");
    expect(m.subject).not.toMatch(/["\r\n]/);
  });
});

describe("an operator's wording (MAIL_TEMPLATES)", () => {
  const base = { JWT_SECRET: "x".repeat(32) };
  const worded = (templates: unknown) => parseSettings({ ...base, MAIL_TEMPLATES: JSON.stringify(templates) }).mail;

  it("replaces the parts it names, fills its placeholders, and keeps the link between the paragraphs", () => {
    const mail = {
      ...worded({ invitation: { subject: "{organization}: an invitation from {inviter}", paragraphs: ["Bonjour ! {inviter} vous invite ({product})."] } }),
      linkBaseUrl: "https://app.test",
    };
    const m = invitationMessage(mail, { email: "a@b.test" }, "tok", { inviter: "ann@acme.test", organization: "Acme", expiresAt: new Date(0) });
    expect(m.subject).toBe("Acme: an invitation from ann@acme.test");
    expect(m.text.split("\n\n")).toEqual([
      "Hello,",
      "Bonjour ! ann@acme.test vous invite (Organization Management).",
      "https://app.test/accept#token=tok",
      // A part not named keeps the default.
      "If you did not expect this invitation, ignore this message: nothing happens unless the link is followed.",
    ]);
    // Another message keeps its default wording.
    expect(passwordResetMessage(mail, { email: "a@b.test" }, "tok", 30).subject).toBe("Reset your Organization Management password");
  });

  it("escapes the values it is filled with, and the wording itself, in the HTML part; a value is never read as a placeholder", () => {
    const mail = { ...worded({ invitation: { paragraphs: ["<i>{organization}</i> and {inviter}"] } }), linkBaseUrl: "https://app.test" };
    const m = invitationMessage(mail, { email: "a@b.test" }, "tok", { inviter: "{organization}", organization: "<script>x</script>", expiresAt: new Date(0) });
    expect(m.html).toContain("&lt;i&gt;&lt;script&gt;x&lt;/script&gt;&lt;/i&gt; and {organization}");
    expect(m.html).not.toMatch(/<script>|<i>/);
  });

  it("stops the Worker at start when it is not JSON, names an unknown message or part, or a placeholder the message does not fill", () => {
    expect(() => parseSettings({ ...base, MAIL_TEMPLATES: "{not json" })).toThrow(/MAIL_TEMPLATES: is not JSON/);
    expect(() => worded({ invoice: { subject: "x" } })).toThrow(/MAIL_TEMPLATES: .*invoice/);
    expect(() => worded({ invitation: { footer: "x" } })).toThrow(/MAIL_TEMPLATES: invitation: .*footer/);
    expect(() => worded({ password_reset: { subject: "Reset for {organization}" } })).toThrow(
      /MAIL_TEMPLATES: password_reset.subject: names a placeholder this message does not fill \(it fills \{product\}, \{minutes\}\)/,
    );
    expect(() => worded({ password_changed: { paragraphs: [] } })).toThrow(/MAIL_TEMPLATES: password_changed.paragraphs: /);
    expect(() => worded({ email_verification: { subject: "" } })).toThrow(/MAIL_TEMPLATES: email_verification.subject: /);
  });
});

describe.skipIf(!mailpitUrl)("the SMTP transport, to Mailpit", () => {
  it("delivers a message with its text and HTML parts, from the configured sender", async () => {
    const s = settings();
    const to = address("reset");
    await mailTransport(s.mail.transport, s.mail.from).send(passwordResetMessage(s.mail, { email: to, name: "Ada Lovelace" }, "abc123", 30));
    const [got] = await mailTo(to);
    expect(got?.From).toEqual({ Name: "Org Service", Address: "accounts@service.test" });
    expect(got?.To).toEqual([{ Name: "Ada Lovelace", Address: to }]);
    expect(got?.Subject).toBe("Reset your Organization Management password");
    expect(got?.Text).toContain("https://app.service.test/reset-password#token=abc123");
    expect(got?.HTML).toContain('href="https://app.service.test/reset-password#token=abc123"');
  });

  it("cannot be made to add headers or recipients by a hostile display name or subject", async () => {
    const s = settings();
    const to = address("hostile");
    const spy = address("spy");
    const hostile = `Mallory"\r\nBcc: ${spy}\r\nX-Injected: 1\r\n\r\nbody`;
    await mailTransport(s.mail.transport, s.mail.from).send({
      to: { email: to, name: hostile },
      subject: `Hi\r\nCc: ${spy}\nX-Injected: 2`,
      text: "t",
      html: "<p>t</p>",
    });
    const [got] = await mailTo(to);
    expect(got).toBeDefined();
    const headers = await headersOf(got?.ID ?? "");
    expect(Object.keys(headers).filter((h) => /^(bcc|cc|x-injected)$/i.test(h))).toEqual([]);
    expect(got?.To).toEqual([{ Name: `Mallory Bcc: ${spy} X-Injected: 1 body`, Address: to }]);
    expect(got?.Bcc ?? []).toEqual([]);
    expect(got?.Cc ?? []).toEqual([]);
    expect(got?.Subject).toBe(`Hi Cc: ${spy} X-Injected: 2`);
    // Nothing was addressed to the one named in the injection attempt (a search finds it in the name).
    const recipients = (await mailTo(spy, 1, 500)).flatMap((m) => [...m.To, ...(m.Cc ?? []), ...(m.Bcc ?? [])].map((a) => a.Address));
    expect(recipients).not.toContain(spy);
  });

  it("refuses an address that could end an SMTP command early, before connecting", async () => {
    const s = settings();
    const send = mailTransport(s.mail.transport, s.mail.from).send({ to: { email: "a@b.test>\r\nRCPT TO:<x@y.test" }, subject: "s", text: "t", html: "t" });
    await expect(send).rejects.toBeInstanceOf(UndeliverableError);
  });
});

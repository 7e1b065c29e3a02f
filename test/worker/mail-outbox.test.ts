import { runDurableObjectAlarm } from "cloudflare:test";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { createDeps, settingsFor } from "../../src/deps";
import { requestPasswordReset } from "../../src/domain/auth/password-reset";
import type { Deps } from "../../src/domain/kernel/deps";
import type { MailMessage } from "../../src/domain/mail/message";
import {
  MAIL_OUTBOX,
  MAX_PENDING_MAIL,
  type MailDoc,
  mailStatus,
  newMail,
  OUTBOX_FULL,
  queueMail,
  queueReset,
  RESET_DELAY_MS,
  sendDueMail,
} from "../../src/domain/mail/outbox";
import { createOrganization } from "../../src/domain/organizations/lifecycle";
import { mailTransport } from "../../src/mail/transport";
import { env, uniqueName, useOwnDatabase } from "../helpers";
import { mailpitUrl, mailTo } from "./mail-mailpit";

/**
 * The mail outbox and its dispatcher: messages wait in the data store and are sent from the
 * dispatcher's alarm; a mail server that is down delays them (retried on the schedule) and loses
 * none; a full outbox refuses more without failing the caller.
 */
const database = useOwnDatabase("mail_outbox", { mail: true });
const address = (tag: string) =>
  `${uniqueName(tag)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "")}@member.test`;
const message = (to: string, subject = "Hello"): MailMessage => ({ to: { email: to, name: "Member" }, subject, text: "text part", html: "<p>html part</p>" });
/** Queues a message as a change's relay does (mail/carried.ts); its id, or null when none would leave. */
const enqueueMail = async (deps: Deps, kind: "password_reset", m: MailMessage): Promise<ObjectId | null> => {
  const mail = newMail(deps, kind, m);
  if (mail) await queueMail(deps, mail);
  return mail?.id ?? null;
};
const dispatcher = () => env.MAIL_DISPATCHER.get(env.MAIL_DISPATCHER.idFromName(database));

describe.skipIf(!mailpitUrl)("the mail outbox, sent to Mailpit", () => {
  it("sends a queued message from the dispatcher's alarm and keeps its status, not its content", async () => {
    const deps = await createDeps(env);
    const to = address("queued");
    const id = await enqueueMail(deps, "password_reset", message(to, "Queued"));
    expect(id).toBeInstanceOf(ObjectId);
    await dispatcher().poke(database);
    await runDurableObjectAlarm(dispatcher());
    const [got] = await mailTo(to);
    expect(got?.Subject).toBe("Queued");
    expect(await mailStatus(deps, id as ObjectId)).toMatchObject({ status: "sent", attempts: 1 });
    const stored = await deps.data.collection<MailDoc>(MAIL_OUTBOX).findOne({ _id: id });
    expect(stored?.message).toBeNull();
  });

  it("keeps every message while the mail server is down and sends them all once it is back", async () => {
    // The dispatcher is not woken: the sends of this test are its own, down then up.
    const deps = { ...(await createDeps(env)), wakeMail: undefined };
    const { mail } = settingsFor(env);
    if (mail.transport.kind !== "smtp") throw new Error("the suite runs with SMTP");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    const down = mailTransport({ kind: "smtp", smtp: { ...mail.transport.smtp, port: 9, timeoutMs: 1000 } }, mail.from);
    const up = mailTransport(mail.transport, mail.from);
    const recipients = [address("down-a"), address("down-b"), address("down-c")];
    const ids = await Promise.all(recipients.map((to) => enqueueMail(deps, "password_reset", message(to, "After the outage"))));

    await sendDueMail(deps, (m) => down.send(m));
    for (const id of ids) {
      const status = await mailStatus(deps, id as ObjectId);
      expect(status).toMatchObject({ status: "pending", attempts: 1 });
      expect(status?.last_error).toBeTruthy();
    }
    // The test schedule is a thousand times shorter (vitest.config.ts): the second attempt is due within milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 20 && (await Promise.all(ids.map((id) => mailStatus(deps, id as ObjectId)))).some((s) => s?.status !== "sent"); i++) {
      await sendDueMail(deps, (m) => up.send(m));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const id of ids) expect(await mailStatus(deps, id as ObjectId)).toMatchObject({ status: "sent", attempts: 2 });
    for (const to of recipients) expect((await mailTo(to)).map((m) => m.Subject)).toEqual(["After the outage"]);
  });
});

describe("the mail outbox without a transport", () => {
  it("stores nothing: no message would ever leave, and none should sit in the store with its link", async () => {
    const base = await createDeps(env);
    const deps = { ...base, settings: { ...base.settings, mail: { ...base.settings.mail, sends: false } } };
    const to = address("no-transport");
    expect(await enqueueMail(deps, "password_reset", message(to))).toBeNull();
    expect(await deps.data.collection<MailDoc>(MAIL_OUTBOX).countDocuments({ "message.to.email": to })).toBe(0);
  });
});

describe("a password reset asked for", () => {
  it("is queued as the address alone, the same for every address, and written by the dispatcher's run a moment later", async () => {
    const base = await createDeps(env);
    // As with a transport configured; nothing is sent here (no dispatcher is woken, no transport runs).
    const deps = { ...base, settings: { ...base.settings, mail: { ...base.settings.mail, sends: true } }, wakeMail: undefined };
    const known = address("known");
    await createOrganization(deps, { organization_name: uniqueName("Reset Asked"), email: known, password: "Test1234" });
    const unknown = address("unknown");
    const asked = Date.now();
    await queueReset(deps, known);
    await queueReset(deps, unknown);
    const outbox = deps.data.collection<MailDoc>(MAIL_OUTBOX);
    const requests = await outbox.find({ reset_for: { $in: [known, unknown] } });
    expect(requests.map((r) => ({ kind: r.kind, message: r.message, status: r.status }))).toEqual([
      { kind: "password_reset", message: null, status: "pending" },
      { kind: "password_reset", message: null, status: "pending" },
    ]);
    for (const r of requests) {
      expect(r.next_at.getTime()).toBeGreaterThanOrEqual(asked + RESET_DELAY_MS.min);
      expect(r.next_at.getTime()).toBeLessThanOrEqual(Date.now() + RESET_DELAY_MS.max);
    }
    await new Promise((resolve) => setTimeout(resolve, RESET_DELAY_MS.max + 50));
    await sendDueMail(
      deps,
      async () => {},
      (email) => requestPasswordReset(deps, email),
    );
    // Both requests gone; a link message for the known address only.
    expect(await outbox.countDocuments({ reset_for: { $in: [known, unknown] } })).toBe(0);
    expect(await outbox.countDocuments({ "message.to.email": known, kind: "password_reset" })).toBe(1);
    expect(await outbox.countDocuments({ "message.to.email": unknown })).toBe(0);
  });
});

describe("the mail outbox's bound", () => {
  it("stores a message past the bound as failed, without its content, and sends nothing for it", async () => {
    const base = await createDeps(env);
    // As with a transport configured, whether or not this run has Mailpit.
    const deps = { ...base, settings: { ...base.settings, mail: { ...base.settings.mail, sends: true } } };
    const outbox = deps.data.collection<MailDoc>(MAIL_OUTBOX);
    const now = new Date();
    // Far in the future, so no dispatcher run of another test sends them.
    const later = new Date(now.getTime() + 86_400_000);
    await outbox.insertMany(
      Array.from({ length: MAX_PENDING_MAIL }, () => ({
        _id: new ObjectId(),
        kind: "password_reset" as const,
        message: message("filler@member.test"),
        status: "pending" as const,
        attempts: 0,
        next_at: later,
        created_at: now,
        at: now,
      })),
    );
    const refused = (await enqueueMail(deps, "password_reset", message(address("overflow")))) as ObjectId;
    expect(await mailStatus(deps, refused)).toMatchObject({ status: "failed", attempts: 0, last_error: OUTBOX_FULL });
    expect((await outbox.findOne({ _id: refused }))?.message).toBeNull();
    await outbox.deleteMany({ next_at: later });
    const queued = (await enqueueMail(deps, "password_reset", message(address("room-again")))) as ObjectId;
    expect(await mailStatus(deps, queued)).toMatchObject({ status: "pending" });
    // Queued again (a step run twice after a crash): still one message.
    await queueMail(deps, { id: queued, kind: "password_reset", message: message(address("room-again")), at: new Date() });
    expect(await outbox.countDocuments({ _id: queued })).toBe(1);
  });
});

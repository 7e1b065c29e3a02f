import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps";
import { confirmPasswordReset, PASSWORD_RESETS, type ResetDoc, requestPasswordReset } from "../../src/domain/auth/password-reset";
import { MAIL_OUTBOX } from "../../src/domain/mail/outbox";
import { bearer, call, createOrg, env, loginToken, postJson, uniqueName, useOwnDatabase } from "../helpers";
import { mailpitUrl, mailTo } from "./mail-mailpit";

/**
 * Password reset from the mail, on the domain functions (the HTTP routes come next): the link is
 * read from what Mailpit received, and followed.
 */
const database = useOwnDatabase("password_reset");
const dispatcher = () => env.MAIL_DISPATCHER.get(env.MAIL_DISPATCHER.idFromName(database));

const linkToken = async (email: string, count = 1): Promise<string> => {
  await runDurableObjectAlarm(dispatcher());
  const mails = await mailTo(email, count);
  const last = mails[mails.length - 1];
  const token = last?.Text.match(/reset-password\?token=([A-Za-z0-9_-]+)/)?.[1];
  if (!token) throw new Error(`no reset link mailed to ${email}: ${JSON.stringify(mails.map((m) => m.Subject))}`);
  return token;
};

describe.skipIf(!mailpitUrl)("password reset from the mailed link", () => {
  it("sets the new password, revokes earlier tokens, publishes the change and spends the link", async () => {
    const org = await createOrg(uniqueName("Reset"));
    const oldToken = await loginToken(org.email, org.password);
    const deps = await createDeps(env);
    await requestPasswordReset(deps, org.email.toUpperCase());
    const token = await linkToken(org.email);

    const stored = await deps.data.collection<ResetDoc>(PASSWORD_RESETS).find({});
    expect(stored.map((r) => r._id)).not.toContain(token);

    await confirmPasswordReset(deps, token, "Fresh-Pass-123");
    const fresh = await loginToken(org.email, "Fresh-Pass-123");
    expect((await postJson("/admin/login", { email: org.email, password: org.password })).status).toBe(401);
    expect((await call("/org/events?limit=50", { headers: bearer(oldToken) })).status).toBe(401);
    const events = (await (await call("/org/events?limit=50", { headers: bearer(fresh) })).json()) as { events: { type: string }[] };
    expect(events.events.map((e) => e.type)).toContain("admin.password_changed");

    await expect(confirmPasswordReset(deps, token, "Another-Pass-123")).rejects.toMatchObject({ code: "INVALID_TOKEN" });
    await loginToken(org.email, "Fresh-Pass-123");
  });

  it("refuses an expired link and an earlier link once a later one was used", async () => {
    const org = await createOrg(uniqueName("Expiry"));
    const deps = await createDeps(env);
    await requestPasswordReset(deps, org.email);
    const first = await linkToken(org.email, 1);
    await requestPasswordReset(deps, org.email);
    const second = await linkToken(org.email, 2);
    expect(second).not.toBe(first);

    const later = { ...deps, now: () => new Date(Date.now() + 31 * 60_000) };
    await expect(confirmPasswordReset(later, second, "Late-Pass-123")).rejects.toMatchObject({ code: "INVALID_TOKEN" });
    await confirmPasswordReset(deps, second, "Second-Pass-123");
    await expect(confirmPasswordReset(deps, first, "First-Pass-123")).rejects.toMatchObject({ code: "INVALID_TOKEN" });
    await loginToken(org.email, "Second-Pass-123");
  });

  it("does nothing for an address without an account: no link stored, no mail queued", async () => {
    const deps = await createDeps(env);
    const unknown = `${uniqueName("nobody")
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "")}@member.test`;
    const before = await deps.data.collection(MAIL_OUTBOX).countDocuments({});
    const resets = await deps.data.collection(PASSWORD_RESETS).countDocuments({});
    await expect(requestPasswordReset(deps, unknown)).resolves.toBeUndefined();
    expect(await deps.data.collection(MAIL_OUTBOX).countDocuments({})).toBe(before);
    expect(await deps.data.collection(PASSWORD_RESETS).countDocuments({})).toBe(resets);
    expect(await mailTo(unknown, 1, 300)).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { type AccountDoc, USERS } from "../../src/domain/accounts/accounts";
import { changePassword, login } from "../../src/domain/auth/auth";
import { newLink } from "../../src/domain/auth/mailed-link";
import { confirmPasswordReset, requestPasswordReset } from "../../src/domain/auth/password-reset";
import { confirmEmailVerification } from "../../src/domain/auth/verify-email";
import type { Deps } from "../../src/domain/kernel/deps";
import { ORGANIZATION_INDEXES, type OrganizationDoc } from "../../src/domain/kernel/model";
import type { Principal } from "../../src/domain/kernel/principal";
import { MAIL_OUTBOX, type MailDoc } from "../../src/domain/mail/outbox";
import { createOrganization } from "../../src/domain/organizations/lifecycle";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { env, ownerOf } from "../helpers";
import { depsFor, freshDatabase, laterDeps, withMailQueued } from "./faults";

// Changes carry their mail (queued in the outbox, never sent: no dispatcher runs here).
withMailQueued();

/**
 * Mailed links under concurrency, on whichever store the Worker is configured with: a link is spent
 * by the same guarded write that sets the password (or the verified mark), so of any number of
 * confirmations at once exactly one passes, and a reset racing a password change never leaves two
 * passwords' worth of half-done work.
 */
const PASSWORD = "Test1234";

const world = async (): Promise<{ deps: Deps; owner: Principal; email: string; database: string }> => {
  const database = freshDatabase();
  const deps = depsFor(database);
  await deps.organizations.createIndexes(ORGANIZATION_INDEXES);
  const email = "owner@links.example.com";
  await createOrganization(deps, { organization_name: "Links", email, password: PASSWORD });
  return { deps, owner: ownerOf((await deps.organizations.findOne({ slug: "links" })) as OrganizationDoc), email, database };
};

const placeLink = async (deps: Deps, owner: Principal, field: "password_reset" | "email_verification"): Promise<string> => {
  const { token, pending } = await newLink(owner.userId, new Date(Date.now() + 600_000));
  await deps.data.collection<AccountDoc>(USERS).updateOne({ user_id: owner.userId }, { $set: { [field]: pending } });
  return token;
};

const outcomes = (settled: PromiseSettledResult<unknown>[]) =>
  settled.map((s) => (s.status === "fulfilled" ? "ok" : String((s.reason as { code?: string }).code ?? s.reason)));

const signsIn = (deps: Deps, email: string, password: string) =>
  login(deps, email, password).then(
    () => true,
    () => false,
  );

const report = (race: string, results: string[]) => console.info(`race ${race}: store=${env.DATA_API_URL ? "gateway" : "embedded"} ${JSON.stringify(results)}`);

describe("mailed links raced", () => {
  it("one reset link confirmed eight times at once: exactly one new password", async () => {
    const { deps, owner, email } = await world();
    const link = await placeLink(deps, owner, "password_reset");
    const results = outcomes(await Promise.allSettled(Array.from({ length: 8 }, (_, i) => confirmPasswordReset(deps, link, `Raced-pass-${i}`))));
    report("reset x8", results);
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r !== "ok").every((r) => r === "LINK_INVALID")).toBe(true);
    const winner = results.indexOf("ok");
    expect(await signsIn(deps, email, `Raced-pass-${winner}`)).toBe(true);
    expect(await signsIn(deps, email, `Raced-pass-${(winner + 1) % 8}`)).toBe(false);
    await reconcile(deps, new Date(Date.now() + 120_000));
    const account = await deps.data.collection<AccountDoc>(USERS).findOne({ user_id: owner.userId });
    expect(account?.carried ?? []).toEqual([]);
    expect(account?.password_reset).toBeUndefined();
  });

  it("a reset racing a password change: the passwords that passed are the ones that can sign in, in order", async () => {
    const { deps, owner, email } = await world();
    const link = await placeLink(deps, owner, "password_reset");
    const [reset, change] = outcomes(
      await Promise.allSettled([confirmPasswordReset(deps, link, "Reset-pass-1"), changePassword(deps, owner, PASSWORD, "Change-pass-1")]),
    );
    report("reset vs change", [reset ?? "", change ?? ""]);
    expect([reset, change]).toContain("ok");
    const byReset = await signsIn(deps, email, "Reset-pass-1");
    const byChange = await signsIn(deps, email, "Change-pass-1");
    // Exactly one password works: the one whose write came last, and only a write that was answered "ok".
    expect(Number(byReset) + Number(byChange)).toBe(1);
    if (byReset) expect(reset).toBe("ok");
    if (byChange) expect(change).toBe("ok");
    expect(await signsIn(deps, email, PASSWORD)).toBe(false);
    // A reset that lost left its link open, to be used again.
    if (reset !== "ok") await confirmPasswordReset(deps, link, "Reset-pass-2");
  });

  it("one verification link confirmed eight times at once: verified once, then refused", async () => {
    const { deps, owner } = await world();
    const link = await placeLink(deps, owner, "email_verification");
    const results = outcomes(await Promise.allSettled(Array.from({ length: 8 }, () => confirmEmailVerification(deps, link))));
    report("verify x8", results);
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    const account = await deps.data.collection<AccountDoc>(USERS).findOne({ user_id: owner.userId });
    expect(account?.email_verified).toBe(true);
    expect(account?.email_verification).toBeUndefined();
  });

  it("eight reset requests at once, the reconciler queueing beside them: each message queued once, and only the last link opens", async () => {
    const { deps, owner, email, database } = await world();
    // The reconciler's clock is ahead, so every carried message is its to queue too, while the requests queue them.
    await Promise.all([...Array.from({ length: 8 }, () => requestPasswordReset(deps, email)), reconcile(laterDeps(database), new Date(Date.now() + 120_000))]);
    await reconcile(laterDeps(database), new Date(Date.now() + 120_000));
    const messages = await deps.data.collection<MailDoc>(MAIL_OUTBOX).find({ kind: "password_reset", "message.to.email": email });
    expect(messages).toHaveLength(8);
    const account = await deps.data.collection<AccountDoc>(USERS).findOne({ user_id: owner.userId });
    expect(account?.carried_mail ?? []).toEqual([]);
    const links = messages.map((m) => decodeURIComponent(/#token=([^\s"<]+)/.exec(m.message?.text ?? "")?.[1] ?? ""));
    const results = outcomes(await Promise.allSettled(links.map((link, i) => confirmPasswordReset(deps, link, `From-mail-${i}`))));
    report("reset requests x8", results);
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
  });
});

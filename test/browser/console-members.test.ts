import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { browserAvailable } from "./chromium";
import {
  api,
  type ConsoleRig,
  createOrganization,
  expectAccessible,
  expectClean,
  fitsWidth,
  type Owner,
  openConsole,
  screenshot,
  signedInPage,
  signIn,
  startRig,
  unique,
} from "./console-kit";

let rig: ConsoleRig;

/** Invites `email` from the Invitations view; answers the one-time link the page shows. */
const inviteFromView = async (page: Page, email: string, role = "member"): Promise<string> => {
  await page.getByRole("link", { name: "Invitations" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Role").selectOption(role);
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  const link = page.getByLabel("Invitation link");
  await expect.poll(() => page.getByText(`Invitation for ${email} made`).count()).toBe(1);
  return link.inputValue();
};

/** An invitation made through the API (for what the test is not about): its accept link. */
const invite = async (owner: Owner, email: string, role = "member"): Promise<string> => {
  const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email, role } });
  expect(invited.status, JSON.stringify(invited.json)).toBe(201);
  return `${rig.worker.origin}/console/accept#token=${encodeURIComponent(String(invited.json.token))}`;
};

const navTitles = (page: Page) => page.locator('nav[aria-label="Sections"] a').allTextContents();
const roleOptions = (page: Page) => page.getByLabel("Role", { exact: true }).locator("option").allTextContents();
const memberRow = (page: Page, email: string) => page.getByRole("row", { name: new RegExp(email.replace(/[.+]/g, "\\$&")) });

describe.runIf(browserAvailable())("the console's members, invitations and accept views", () => {
  beforeAll(async () => {
    // No mail transport, whatever the suite runs beside: the invitations' delivery reads "not mailed".
    rig = await startRig({ MAIL_TRANSPORT: "none" });
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("invites, revokes, and a new person accepts the link; a role change hides what they may no longer do; they leave", async () => {
    // A hostile organization name: markup and a right-to-left override, shown as text everywhere.
    const owner = await createOrganization(rig.worker.origin, `<b>x</b>\u202Eevil ${unique()}`);
    const ownerTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await signIn(ownerTab.page, owner);
    await ownerTab.page.getByRole("link", { name: "Invitations" }).click();
    expect(await roleOptions(ownerTab.page)).toEqual(["owner", "admin", "member"]);
    // An invitation revoked from the list after its confirm step: its row and its link, shown until then, go.
    const doomed = `doomed-${unique()}@example.com`;
    await inviteFromView(ownerTab.page, doomed);
    await memberRow(ownerTab.page, doomed).getByRole("button", { name: "Revoke" }).click();
    await ownerTab.page.getByRole("button", { name: "Yes, revoke" }).click();
    await expect.poll(() => memberRow(ownerTab.page, doomed).count()).toBe(0);
    expect(await ownerTab.page.getByLabel("Invitation link").count()).toBe(0);
    // The newcomer's invitation: its link, read from the page.
    const newcomer = `new-${unique()}@example.com`;
    const link = await inviteFromView(ownerTab.page, newcomer);
    expect(link.startsWith(`${rig.worker.origin}/console/accept#token=`)).toBe(true);
    const pending = memberRow(ownerTab.page, newcomer);
    await expect.poll(() => pending.count()).toBe(1);
    expect(await pending.textContent()).toContain("Pending, not mailed");
    expect((await api(rig.worker.origin, "GET", "/org/invitations", { token: owner.token })).json.invitations).toHaveLength(1);
    await expectAccessible(ownerTab.page);
    await screenshot(ownerTab.page, "invitations");

    // The newcomer, in a tab of their own, opens the link: the token leaves the address bar, and the page knows the address is new.
    const guest = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await guest.page.goto(link);
    await guest.page.getByText("The invited address has no account yet").waitFor();
    expect(guest.page.url()).toBe(`${rig.worker.origin}/console/accept`);
    expect(await guest.page.getByLabel("Password", { exact: true }).getAttribute("autocomplete")).toBe("new-password");
    await expectAccessible(guest.page);
    await screenshot(guest.page, "accept");
    await guest.page.getByLabel("Password", { exact: true }).fill("short");
    await guest.page.getByRole("button", { name: "Open the account and join" }).click();
    await expect.poll(() => guest.page.getByRole("alert").textContent()).toBe(ERRORS.NEW_ACCOUNT_PASSWORD.message);
    await guest.page.getByLabel("Password", { exact: true }).fill("Newcomer1234!");
    await guest.page.getByRole("button", { name: "Open the account and join" }).click();
    await guest.page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
    expect(await guest.page.locator(".who bdi").first().textContent()).toBe(owner.organization);
    expect(await guest.page.locator(".role").textContent()).toBe("member");
    expect(await guest.page.locator("#main b, header b").count()).toBe(0);
    expect(await navTitles(guest.page)).toEqual(["Overview", "Members", "Roles", "Teams", "Records"]);

    // The owner's members list shows them; the owner's own row is marked and has no role picker.
    await ownerTab.page.getByRole("link", { name: "Members" }).click();
    const row = memberRow(ownerTab.page, newcomer);
    await row.waitFor();
    expect(await row.getByLabel(/Role of/).inputValue()).toBe("member");
    const own = memberRow(ownerTab.page, owner.email);
    expect(await own.textContent()).toContain("(you)");
    expect(await own.getByRole("combobox").count()).toBe(0);
    expect(await own.getByRole("button").count()).toBe(0);
    expect(await ownerTab.page.locator("#main p bdi").first().textContent()).toBe(owner.organization);
    expect(await ownerTab.page.locator("#main b").count()).toBe(0);
    await expectAccessible(ownerTab.page);
    await screenshot(ownerTab.page, "members");

    // Made an admin: the member's token is revoked, so their next action ends the session.
    await row.getByLabel(/Role of/).selectOption("admin");
    await expect
      .poll(() => api(rig.worker.origin, "GET", "/org/members", { token: owner.token }).then((r) => JSON.stringify(r.json)))
      .toContain(`"email":"${newcomer}","role":"admin"`);
    await guest.page.getByRole("link", { name: "Members" }).click();
    await guest.page.getByText("Your session ended").waitFor();
    await signIn(guest.page, { email: newcomer, password: "Newcomer1234!" });
    expect(await navTitles(guest.page)).toContain("Invitations");
    // An admin invites admins and members, never owners, and leaves the owner's row alone.
    await guest.page.getByRole("link", { name: "Invitations" }).click();
    expect(await roleOptions(guest.page)).toEqual(["admin", "member"]);
    await guest.page.getByRole("link", { name: "Members" }).click();
    const ownerSeenByAdmin = memberRow(guest.page, owner.email);
    await ownerSeenByAdmin.waitFor();
    expect(await ownerSeenByAdmin.getByRole("combobox").count()).toBe(0);
    expect(await ownerSeenByAdmin.getByRole("button").count()).toBe(0);
    expect(await memberRow(guest.page, newcomer).textContent()).toContain("(you)");

    // Back to member: Invitations, Webhooks and Settings are gone, and refused when opened directly.
    await row.getByLabel(/Role of/).selectOption("member");
    await expect
      .poll(() => api(rig.worker.origin, "GET", "/org/members", { token: owner.token }).then((r) => JSON.stringify(r.json)))
      .toContain(`"email":"${newcomer}","role":"member"`);
    // Their next call (the view's, on a reload) is refused for the revoked token: the session ends.
    await guest.page.reload();
    await guest.page.getByText("Your session ended").waitFor();
    await signIn(guest.page, { email: newcomer, password: "Newcomer1234!" });
    expect(await navTitles(guest.page)).toEqual(["Overview", "Members", "Roles", "Teams", "Records"]);
    await guest.page.getByRole("link", { name: "Members" }).click();
    await memberRow(guest.page, owner.email).waitFor();
    expect(await guest.page.locator("#main table").getByRole("combobox").count()).toBe(0);
    expect(await guest.page.locator("#main table").getByRole("button").count()).toBe(0);
    await guest.page.goto(`${rig.worker.origin}/console/invitations`);
    await guest.page.getByRole("heading", { name: "Not available" }).waitFor();

    // The member leaves by themselves, after a confirm step, and is signed out with a notice.
    await guest.page.goto(`${rig.worker.origin}/console/members`);
    await guest.page.getByRole("button", { name: "Leave this organization" }).click();
    await guest.page.getByRole("button", { name: "Yes, leave this organization" }).click();
    await guest.page.getByText("You left the organization.").waitFor();
    expect(await guest.page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(0);
    const left = await api(rig.worker.origin, "GET", "/org/members", { token: owner.token });
    expect(JSON.stringify(left.json)).not.toContain(newcomer);
    // The owner's list still shows them: a change now is refused, in the row, and the picker keeps the role they had.
    await row.getByLabel(/Role of/).selectOption("admin");
    await expect.poll(() => row.getByRole("alert").textContent()).toBe(ERRORS.MEMBER_NOT_FOUND.message);
    expect(await row.getByLabel(/Role of/).inputValue()).toBe("member");
    expectClean(ownerTab, guest);
    await ownerTab.page.close();
    await guest.page.close();
  });

  it("an existing account accepts with its password; the owner removes it at 390 px; the last owner may not leave", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const other = await createOrganization(rig.worker.origin);
    const link = await invite(owner, other.email);
    const guest = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await guest.page.goto(link);
    await guest.page.getByText("The invited address has an account").waitFor();
    expect(await guest.page.getByLabel("Password", { exact: true }).getAttribute("autocomplete")).toBe("current-password");
    await guest.page.getByLabel("Password", { exact: true }).fill("wrong-password");
    await guest.page.getByRole("button", { name: "Accept the invitation" }).click();
    await expect.poll(() => guest.page.getByRole("alert").textContent()).toBe(ERRORS.INVALID_CREDENTIALS.message);
    await expectAccessible(guest.page);
    await guest.page.getByLabel("Password", { exact: true }).fill(other.password);
    await guest.page.getByRole("button", { name: "Accept the invitation" }).click();
    await guest.page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
    expect(await guest.page.locator(".who bdi").first().textContent()).toBe(owner.organization);
    expect(await guest.page.locator(".role").textContent()).toBe("member");

    const ownerTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/members");
    await ownerTab.page.setViewportSize({ width: 390, height: 844 });
    await signIn(ownerTab.page, owner);
    const row = memberRow(ownerTab.page, other.email);
    await row.getByRole("button", { name: "Remove" }).click();
    // The confirm step can be cancelled: nothing happens.
    await row.getByRole("button", { name: "Cancel" }).click();
    await row.getByRole("button", { name: "Remove" }).click();
    await row.getByRole("button", { name: "Yes, remove" }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect(JSON.stringify((await api(rig.worker.origin, "GET", "/org/members", { token: owner.token })).json)).not.toContain(other.email);
    expect(await fitsWidth(ownerTab.page)).toBe(true);
    // The removed member's next action in the organization ends their session there.
    await guest.page.getByRole("link", { name: "Members" }).click();
    await guest.page.getByText("Your session ended").waitFor();
    // Their account still has its own organization.
    expect((await api(rig.worker.origin, "POST", "/admin/login", { body: { email: other.email, password: other.password } })).status).toBe(200);
    // The last owner cannot leave: the service's refusal, in place.
    await ownerTab.page.getByRole("button", { name: "Leave this organization" }).click();
    await ownerTab.page.getByRole("button", { name: "Yes, leave this organization" }).click();
    await expect.poll(() => ownerTab.page.getByRole("alert").textContent()).toBe(ERRORS.LAST_OWNER.message);
    expect(await ownerTab.page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(1);
    expectClean(ownerTab, guest);
    await ownerTab.page.close();
    await guest.page.close();
  });

  it("accepts with the session of the invited account; a session of another account is told so and kept; a used link is dead; an ended session signs out", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const first = await createOrganization(rig.worker.origin);
    const second = await createOrganization(rig.worker.origin);
    const firstLink = await invite(owner, first.email);
    const secondLink = await invite(owner, second.email, "admin");
    const newLink = await invite(owner, `fresh-${unique()}@example.com`);
    const tab = await signedInPage(rig, first);

    // Signed in as the invited account: one button, no password.
    await tab.page.goto(firstLink);
    const asFirst = tab.page.getByRole("button", { name: `Accept as ${first.email}` });
    await asFirst.waitFor();
    await expectAccessible(tab.page);
    await asFirst.click();
    await expect.poll(() => tab.page.locator(".who bdi").first().textContent()).toBe(owner.organization);
    expect(await tab.page.locator(".role").textContent()).toBe("member");

    // A link for a new address: no session to accept with, and the page says what accepting does to this tab.
    await tab.page.goto(newLink);
    await tab.page.getByText("The invited address has no account yet").waitFor();
    expect(await tab.page.getByRole("button", { name: /^Accept as/ }).count()).toBe(0);
    expect(await tab.page.getByText("You are signed in as").count()).toBe(1);

    // Another account's invitation: the session is refused, said so, and kept; the invited account's password then accepts it.
    await tab.page.goto(secondLink);
    await tab.page.getByText("The invited address has an account").waitFor();
    await tab.page.getByRole("button", { name: /^Accept as/ }).click();
    await expect.poll(() => tab.page.getByRole("alert").textContent()).toContain(`This invitation is not for ${first.email}`);
    expect(await tab.page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(1);
    expect(await tab.page.locator(".who bdi").first().textContent()).toBe(owner.organization);
    await expectAccessible(tab.page);
    await tab.page.getByLabel("Password", { exact: true }).fill(second.password);
    await tab.page.getByRole("button", { name: "Accept the invitation" }).click();
    // The tab now works as the invited account, in the organization it joined.
    await expect.poll(() => tab.page.locator(".role").textContent()).toBe("admin");
    expect(await tab.page.locator(".who bdi").first().textContent()).toBe(owner.organization);

    // A used link answers that it is dead, with no form to fill in.
    await tab.page.goto(firstLink);
    await expect.poll(() => tab.page.getByRole("alert").textContent()).toBe(ERRORS.INVITATION_INVALID.message);
    expect(await tab.page.getByLabel("Password", { exact: true }).count()).toBe(0);
    await expectAccessible(tab.page);

    // A session ended elsewhere is refused with the same 401: that one does sign the tab out, and the page says so.
    const third = await createOrganization(rig.worker.origin);
    const thirdLink = await invite(owner, third.email);
    const stored = await tab.page.evaluate(() => JSON.parse(sessionStorage.getItem("oms.console.session") ?? "{}") as { token?: string });
    expect((await api(rig.worker.origin, "POST", "/admin/logout", { token: stored.token })).status).toBe(200);
    await tab.page.goto(thirdLink);
    await tab.page.getByRole("button", { name: /^Accept as/ }).click();
    await expect.poll(() => tab.page.getByRole("alert").first().textContent()).toContain("Your session had ended");
    expect(await tab.page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(0);
    expectClean(tab);
    await tab.page.close();
  });

  it("pages the members list: 'Load more' brings the rest", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const emails = Array.from({ length: 25 }, (_, n) => `paged-${n}-${unique()}@example.com`);
    for (const email of emails) {
      const token = decodeURIComponent(new URL(await invite(owner, email)).hash.slice("#token=".length));
      const accepted = await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token, password: "Paged1234!" } });
      expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
    }
    const tab = await signedInPage(rig, owner, "/console/members");
    const rows = tab.page.locator("#main tbody tr");
    await expect.poll(() => rows.count()).toBe(25);
    await tab.page.getByRole("button", { name: "Load more" }).click();
    await expect.poll(() => rows.count()).toBe(26);
    expect(await tab.page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    // Every member once: the owner and the 25.
    const shown = await tab.page.locator("#main tbody tr td:first-child bdi").allTextContents();
    expect(new Set(shown)).toEqual(new Set([owner.email, ...emails]));
    expectClean(tab);
    await tab.page.close();
  });
});

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, fitsWidth, openConsole, screenshot, signIn, startRig, unique } from "./console-kit";

let rig: ConsoleRig;

/** Invites `email` from the Invitations view; answers the one-time link the page shows. */
const inviteFromView = async (page: Page, email: string, role = "member"): Promise<string> => {
  await page.getByRole("link", { name: "Invitations" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Role").selectOption(role);
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  const link = page.getByLabel("Invitation link");
  await link.waitFor();
  return link.inputValue();
};

const navTitles = (page: Page) => page.locator('nav[aria-label="Sections"] a').allTextContents();

describe.runIf(browserAvailable())("the console's members, invitations and accept views", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("invites, revokes, and a new person accepts the link; a role change hides what they may no longer do", async () => {
    const owner = await createOrganization(rig.worker.origin, `<b>x</b>\u202Eevil ${unique()}`);
    const ownerTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await signIn(ownerTab.page, owner);
    const newcomer = `new-${unique()}@example.com`;
    const link = await inviteFromView(ownerTab.page, newcomer);
    expect(link.startsWith(`${rig.worker.origin}/console/accept#token=`)).toBe(true);
    // A second invitation, revoked from the list.
    const doomed = `doomed-${unique()}@example.com`;
    await inviteFromView(ownerTab.page, doomed);
    await ownerTab.page
      .getByRole("row", { name: new RegExp(doomed) })
      .getByRole("button", { name: "Revoke" })
      .click();
    await ownerTab.page.getByRole("button", { name: "Yes, revoke" }).click();
    await expect.poll(() => ownerTab.page.getByRole("row", { name: new RegExp(doomed) }).count()).toBe(0);
    await expect.poll(() => ownerTab.page.getByRole("row", { name: new RegExp(newcomer) }).count()).toBe(1);
    await expectAccessible(ownerTab.page);
    await screenshot(ownerTab.page, "invitations");

    // The newcomer, in a tab of their own, opens the link and chooses a password.
    const guest = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await guest.page.goto(link);
    await guest.page.getByRole("heading", { name: "Accept an invitation" }).waitFor();
    expect(guest.page.url()).toBe(`${rig.worker.origin}/console/accept`);
    await expectAccessible(guest.page);
    await screenshot(guest.page, "accept");
    await guest.page.getByLabel("Password", { exact: true }).fill("short");
    await guest.page.getByRole("button", { name: "Accept the invitation" }).click();
    await guest.page.getByRole("alert").waitFor();
    await guest.page.getByLabel("Password", { exact: true }).fill("Newcomer1234!");
    await guest.page.getByRole("button", { name: "Accept the invitation" }).click();
    await guest.page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
    // The hostile name is text, isolated.
    expect(await guest.page.locator(".who bdi").first().textContent()).toBe(owner.organization);
    expect(await guest.page.locator("#app b").count()).toBe(0);
    expect(await navTitles(guest.page)).toEqual(["Overview", "Members", "Records"]);

    // The owner sees them, and makes them an admin: their session ends at its next call.
    await ownerTab.page.getByRole("link", { name: "Members" }).click();
    const row = ownerTab.page.getByRole("row", { name: new RegExp(newcomer) });
    await row.waitFor();
    await expectAccessible(ownerTab.page);
    await screenshot(ownerTab.page, "members");
    await row.getByLabel(/Role of/).selectOption("admin");
    await expect.poll(() => ownerTab.page.evaluate(() => document.querySelector("tbody")?.textContent ?? "")).toContain("admin");
    await guest.page.getByRole("link", { name: "Members" }).click();
    await guest.page.getByText("Your session ended").waitFor();
    await signIn(guest.page, { email: newcomer, password: "Newcomer1234!" });
    expect(await navTitles(guest.page)).toContain("Invitations");

    // Back to member: Invitations, Webhooks and Settings are gone, and refused when opened directly.
    await row.getByLabel(/Role of/).selectOption("member");
    await expect
      .poll(() => api(rig.worker.origin, "GET", "/org/members", { token: owner.token }).then((r) => JSON.stringify(r.json)))
      .toContain('"role":"member"');
    // Their next call (the view's, on a reload) is refused for the revoked token: the session ends.
    await guest.page.reload();
    await guest.page.getByText("Your session ended").waitFor();
    await signIn(guest.page, { email: newcomer, password: "Newcomer1234!" });
    expect(await navTitles(guest.page)).toEqual(["Overview", "Members", "Records"]);
    await guest.page.goto(`${rig.worker.origin}/console/invitations`);
    await guest.page.getByRole("heading", { name: "Not available" }).waitFor();

    // The member leaves by themselves.
    await guest.page.goto(`${rig.worker.origin}/console/members`);
    await guest.page.getByRole("button", { name: "Leave" }).click();
    await guest.page.getByRole("button", { name: "Yes, leave" }).click();
    await guest.page.getByText("You left the organization.").waitFor();
    const left = await api(rig.worker.origin, "GET", "/org/members", { token: owner.token });
    expect(JSON.stringify(left.json)).not.toContain(newcomer);
    for (const tab of [ownerTab, guest]) {
      expect(tab.foreign).toEqual([]);
      expect(tab.problems).toEqual([]);
    }
    await ownerTab.page.close();
    await guest.page.close();
  });

  it("an existing account accepts with its password; the owner removes it; the list fits 390 px", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const other = await createOrganization(rig.worker.origin);
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email: other.email, role: "member" } });
    expect(invited.status).toBe(201);
    const guest = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await guest.page.goto(`${rig.worker.origin}/console/accept#token=${encodeURIComponent(String(invited.json.token))}`);
    await guest.page.getByLabel("Password", { exact: true }).fill("wrong-password");
    await guest.page.getByRole("button", { name: "Accept the invitation" }).click();
    await expect.poll(() => guest.page.getByRole("alert").textContent()).toBe("Invalid email or password");
    await guest.page.getByLabel("Password", { exact: true }).fill(other.password);
    await guest.page.getByRole("button", { name: "Accept the invitation" }).click();
    await guest.page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
    expect(await guest.page.locator(".who bdi").first().textContent()).toBe(owner.organization);

    const ownerTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/members");
    await ownerTab.page.setViewportSize({ width: 390, height: 844 });
    await signIn(ownerTab.page, owner);
    const row = ownerTab.page.getByRole("row", { name: new RegExp(other.email) });
    await row.getByRole("button", { name: "Remove" }).click();
    await row.getByRole("button", { name: "Yes, remove" }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect(await fitsWidth(ownerTab.page)).toBe(true);
    // The removed member's account still has its own organization.
    expect((await api(rig.worker.origin, "POST", "/admin/login", { body: { email: other.email, password: other.password } })).status).toBe(200);
    // The owner cannot remove themselves as the last owner: the service's refusal, in place.
    await ownerTab.page.getByRole("button", { name: "Leave" }).click();
    await ownerTab.page.getByRole("button", { name: "Yes, leave" }).click();
    await expect.poll(() => ownerTab.page.getByRole("alert").textContent()).toMatch(/owner/i);
    expect(ownerTab.problems).toEqual([]);
    await ownerTab.page.close();
    await guest.page.close();
  });
});

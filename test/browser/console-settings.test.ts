import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, openConsole, screenshot, signIn, startRig, unique } from "./console-kit";

let rig: ConsoleRig;

const metadata = (name: string) => api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(name)}`);

describe.runIf(browserAvailable())("the console's overview and settings: the organization from its numbers to its deletion", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("shows the organization's facts, counts and latest events, renames it (its records move, the console goes on) and deletes it once its name is typed", async () => {
    const origin = rig.worker.origin;
    const owner = await createOrganization(origin);
    for (let i = 0; i < 3; i++) expect((await api(origin, "POST", "/org/records", { token: owner.token, body: { n: i } })).status).toBe(201);
    const memberEmail = `m-${unique()}@example.com`;
    const invited = await api(origin, "POST", "/org/invitations", { token: owner.token, body: { email: memberEmail, role: "member" } });
    expect((await api(origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } })).status).toBe(200);
    const collection = String((await metadata(owner.organization)).json.collection_name);

    const { page, foreign, problems } = await openConsole(rig.browser.context, origin, "/console");
    await signIn(page, owner);
    await expect.poll(() => page.getByTestId("member-count").textContent()).toBe("2");
    await expect.poll(() => page.getByTestId("record-count").textContent()).toBe("3");
    expect(await page.locator(".facts bdi").first().textContent()).toBe(owner.organization);
    expect(await page.getByTestId("collection").textContent()).toBe(collection);
    expect(await page.locator(".facts").textContent()).toContain("active");
    // The newest event first: the invitation's acceptance came after its creation.
    await page.locator(".recent-events li").first().waitFor();
    const events = await page.locator(".recent-events li code").allTextContents();
    expect(events[0]).toBe("member.joined");
    expect(events).toContain("invitation.created");
    await expectAccessible(page);
    await screenshot(page, "overview");

    // A member, signed in elsewhere before the rename.
    const member = await openConsole(rig.browser.context, origin, "/console");
    await signIn(member.page, { email: memberEmail, password: "Test1234!" });
    await expect.poll(() => member.page.getByTestId("record-count").textContent()).toBe("3");

    // The rename form: the service's own refusals, in place, and nothing renamed.
    const taken = await createOrganization(origin);
    await page.getByRole("link", { name: "Settings" }).click();
    expect(await page.getByLabel("Your e-mail").inputValue()).toBe(owner.email);
    await page.getByLabel("New name").fill(`Renamed ${unique()}`);
    await page.getByLabel("Your password").fill("not-the-password");
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Invalid email or password");
    await page.getByLabel("New name").fill(taken.organization);
    await page.getByLabel("Your password").fill(owner.password);
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Organization already exists");
    expect(await page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(1);
    expect((await metadata(owner.organization)).status).toBe(200);

    const renamed = `Renamed ${unique()}`;
    await page.getByLabel("New name").fill(renamed);
    await page.getByLabel("Your password").fill(owner.password);
    await expectAccessible(page);
    await screenshot(page, "settings");
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await page.getByText(`Renamed to ${renamed}.`).waitFor();
    await expect.poll(() => page.locator(".who bdi").first().textContent()).toBe(renamed);
    const moved = await metadata(renamed);
    expect(moved.status).toBe(200);
    expect(moved.json.collection_name).not.toBe(collection);
    expect((await metadata(owner.organization)).status).toBe(404);
    // The records are there under the new name, and a token issued before the rename still reads them, as the page says.
    const login = await api(origin, "POST", "/admin/login", { body: { email: owner.email, password: owner.password, organization_name: renamed } });
    for (const token of [String(login.json.access_token), owner.token]) {
      const records = await api(origin, "GET", "/org/records", { token });
      expect(records.status).toBe(200);
      expect(records.json.records).toHaveLength(3);
    }

    // The member's token still works but names the old name: the overview says what happened.
    await member.page.reload();
    await member.page.getByText("any more: it was renamed or deleted").waitFor();
    expect(await member.page.getByTestId("record-count").count()).toBe(0);
    expect(member.foreign).toEqual([]);
    expect(member.problems).toEqual([]);
    await member.page.close();

    // The console goes on under the new name: the overview finds it, with its new collection.
    await page.getByRole("link", { name: "Overview" }).click();
    await expect.poll(() => page.getByTestId("collection").textContent()).toBe(moved.json.collection_name);
    await expect.poll(() => page.getByTestId("record-count").textContent()).toBe("3");
    // Past one page of records, the overview says so rather than reading the whole collection.
    for (let i = 3; i < 51; i++) expect((await api(origin, "POST", "/org/records", { token: owner.token, body: { n: i } })).status).toBe(201);
    await page.reload();
    await expect.poll(() => page.getByTestId("record-count").textContent()).toBe("50+");

    // Delete: the button stays disabled until the typed name matches.
    await page.getByRole("link", { name: "Settings" }).click();
    const remove = page.getByRole("button", { name: "Delete the organization" });
    expect(await remove.isDisabled()).toBe(true);
    await page.getByLabel("Organization name, to confirm").fill(renamed.toLowerCase());
    expect(await remove.isDisabled()).toBe(true);
    await page.getByLabel("Organization name, to confirm").fill(renamed);
    expect(await remove.isEnabled()).toBe(true);
    await remove.click();
    await page.getByText("The organization was deleted.").waitFor();
    expect(page.url()).toBe(`${origin}/console/sign-in`);
    expect(await page.getByLabel("E-mail").count()).toBe(1);
    expect((await metadata(renamed)).status).toBe(404);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("an admin may rename but is not offered the delete", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const email = `admin-${unique()}@example.com`;
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email, role: "admin" } });
    expect((await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } })).status).toBe(200);
    const { page } = await openConsole(rig.browser.context, rig.worker.origin, "/console/settings");
    await signIn(page, { email, password: "Test1234!" });
    await page.getByLabel("New name").waitFor();
    expect(await page.getByRole("button", { name: "Rename", exact: true }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Delete the organization" }).count()).toBe(0);
    await page.close();
  });
});

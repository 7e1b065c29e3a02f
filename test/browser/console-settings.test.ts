import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, openConsole, screenshot, signIn, startRig, unique } from "./console-kit";

let rig: ConsoleRig;

describe.runIf(browserAvailable())("the console's overview and settings: the organization from its numbers to its deletion", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("shows the organization's facts and counts, renames it (its records move), and deletes it once its name is typed", async () => {
    const owner = await createOrganization(rig.worker.origin);
    for (let i = 0; i < 3; i++) expect((await api(rig.worker.origin, "POST", "/org/records", { token: owner.token, body: { n: i } })).status).toBe(201);
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", {
      token: owner.token,
      body: { email: `m-${unique()}@example.com`, role: "member" },
    });
    expect((await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } })).status).toBe(200);

    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console");
    await signIn(page, owner);
    await expect.poll(() => page.getByTestId("member-count").textContent()).toBe("2");
    await expect.poll(() => page.getByTestId("record-count").textContent()).toBe("3");
    const facts = await page.locator(".facts").textContent();
    expect(facts).toContain(owner.organization);
    const collection = String(
      (await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(owner.organization)}`)).json.collection_name,
    );
    expect(facts).toContain(collection);
    await page.locator(".recent-events li").first().waitFor();
    expect(await page.locator(".recent-events").textContent()).toContain("member.joined");
    await expectAccessible(page);
    await screenshot(page, "overview");

    // Rename: a name already taken is refused in place; a free one moves the records.
    const taken = await createOrganization(rig.worker.origin);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("New name").fill(taken.organization);
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Organization already exists");
    const renamed = `Renamed ${unique()}`;
    await page.getByLabel("New name").fill(renamed);
    await expectAccessible(page);
    await screenshot(page, "settings");
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await page.getByText("Renamed. The records are now in").waitFor();
    await expect.poll(() => page.locator(".who bdi").first().textContent()).toBe(renamed);
    const moved = await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(renamed)}`);
    expect(moved.status).toBe(200);
    expect(moved.json.collection_name).not.toBe(collection);
    // The console goes on with the new name: the overview reads it.
    await page.getByRole("link", { name: "Overview" }).click();
    await expect.poll(() => page.getByTestId("record-count").textContent()).toBe("3");

    // Delete: the button does nothing until the typed name matches.
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("Organization name, to confirm").fill("not the name");
    await page.getByRole("button", { name: "Delete the organization" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("type the organization's name");
    expect((await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(renamed)}`)).status).toBe(200);
    await page.getByLabel("Organization name, to confirm").fill(renamed);
    await page.getByRole("button", { name: "Delete the organization" }).click();
    await page.getByText("The organization was deleted.").waitFor();
    expect(page.url()).toBe(`${rig.worker.origin}/console/sign-in`);
    expect((await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(renamed)}`)).status).toBe(404);
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
    expect(await page.getByRole("button", { name: "Delete the organization" }).count()).toBe(0);
    await page.close();
  });
});

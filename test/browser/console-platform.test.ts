import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import {
  api,
  type ConsoleRig,
  createOrganization,
  expectAccessible,
  OPERATOR_READ,
  OPERATOR_WRITE,
  openConsole,
  screenshot,
  signIn,
  startRig,
  unique,
} from "./console-kit";

let rig: ConsoleRig;

const openWithKey = async (page: Page, key: string) => {
  await page.getByLabel("Operator key").fill(key);
  await page.getByRole("button", { name: "Open" }).click();
};

describe.runIf(browserAvailable())("the console's platform view for the operator", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("searches, opens, suspends (the member's console shows it) and reactivates an organization; a read key may only look", async () => {
    const owner = await createOrganization(rig.worker.origin, `Platform Target ${unique()}`);
    const member = await openConsole(rig.browser.context, rig.worker.origin, "/console");
    await signIn(member.page, owner);

    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/platform");
    expect(await page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(0);
    await openWithKey(page, "not-an-operator-key-at-all");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("No such operator key, or it was revoked.");
    await openWithKey(page, OPERATOR_WRITE);
    await page.locator(".platform-stats").waitFor();
    await page.getByLabel("Name starts with").fill(owner.organization);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: owner.organization }).waitFor();
    await expectAccessible(page);
    await screenshot(page, "platform");

    await page.getByRole("link", { name: owner.organization }).click();
    await expect.poll(() => page.getByTestId("platform-member-count").textContent()).toBe("1");
    await page.getByLabel("Reason for the suspension").fill("Invoice unpaid");
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByText("Suspended.").waitFor();
    await expect.poll(() => page.locator(".platform-org .facts").textContent()).toContain("Invoice unpaid");
    await expectAccessible(page);
    await screenshot(page, "platform-organization");

    // The member's console says so.
    await member.page.reload();
    await member.page.getByText("This organization is suspended").waitFor();
    await member.page.getByRole("link", { name: "Members" }).click();
    await expect.poll(() => member.page.getByRole("alert").first().textContent()).toContain("suspended");

    // A read key sees but may not act.
    const reader = await openConsole(rig.browser.context, rig.worker.origin, page.url().replace(rig.worker.origin, ""));
    await openWithKey(reader.page, OPERATOR_READ);
    await reader.page.getByRole("button", { name: "Reactivate" }).click();
    await reader.page.getByRole("button", { name: "Yes, reactivate" }).click();
    await expect.poll(() => reader.page.getByRole("alert").textContent()).toBe("This API key may only read");

    await page.getByRole("button", { name: "Reactivate" }).click();
    await page.getByRole("button", { name: "Yes, reactivate" }).click();
    await page.getByText("Reactivated.").waitFor();
    await member.page.getByRole("link", { name: "Overview" }).click();
    await member.page.reload();
    await expect.poll(() => member.page.getByTestId("record-count").textContent()).toBe("0");
    expect(await member.page.getByText("This organization is suspended").count()).toBe(0);

    // The key is gone with a reload.
    await page.reload();
    await page.getByLabel("Operator key").waitFor();
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))).not.toContain(OPERATOR_WRITE);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    for (const tab of [page, member.page, reader.page]) await tab.close();
  });

  it("deletes an organization once its name is typed", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const listed = await api(rig.worker.origin, "GET", `/platform/organizations?query=${encodeURIComponent(owner.organization)}`, { token: OPERATOR_WRITE });
    const id = String((listed.json.organizations as { id: string }[])[0]?.id);
    const { page } = await openConsole(rig.browser.context, rig.worker.origin, `/console/platform?org=${id}`);
    await openWithKey(page, OPERATOR_WRITE);
    await page.getByLabel("Organization name, to confirm").fill(owner.organization);
    await page.getByRole("button", { name: "Delete the organization" }).click();
    await page.getByRole("button", { name: "Search" }).waitFor();
    await expect
      .poll(async () => (await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(owner.organization)}`)).status)
      .toBe(404);
    await page.close();
  });
});

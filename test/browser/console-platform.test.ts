import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
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

const idOf = async (name: string): Promise<string> => {
  const listed = await api(rig.worker.origin, "GET", `/platform/organizations?query=${encodeURIComponent(name)}`, { token: OPERATOR_WRITE });
  const id = (listed.json.organizations as { id: string; organization_name: string }[]).find((org) => org.organization_name === name)?.id;
  expect(id).toBeDefined();
  return String(id);
};

describe.runIf(browserAvailable())("the console's platform view for the operator", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("searches, opens, suspends (the member's console shows it) and reactivates an organization; a read key may only look", async () => {
    const origin = rig.worker.origin;
    const owner = await createOrganization(origin, `Platform Target ${unique()}`);
    for (let i = 0; i < 2; i++) expect((await api(origin, "POST", "/org/records", { token: owner.token, body: { n: i } })).status).toBe(201);
    // The member signs in before the suspension, in a page of their own.
    const member = await openConsole(rig.browser.context, origin, "/console");
    await signIn(member.page, owner);
    await expect.poll(() => member.page.getByTestId("record-count").textContent()).toBe("2");

    const { page, foreign, problems } = await openConsole(rig.browser.context, origin, "/console/platform");
    // The operator's view has no member header.
    expect(await page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(0);
    await openWithKey(page, "not-an-operator-key-at-all");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("No such operator key, or it was revoked.");
    expect(await page.getByLabel("Operator key").count()).toBe(1);

    await openWithKey(page, OPERATOR_WRITE);
    const stats = await api(origin, "GET", "/platform/stats", { token: OPERATOR_WRITE });
    await expect.poll(() => page.getByTestId("platform-total").textContent()).toBe(String((stats.json.organizations as { total: number }).total));
    await page.getByLabel("Name starts with").fill(owner.organization);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: owner.organization }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, "platform");

    await page.getByRole("link", { name: owner.organization }).click();
    expect(new URL(page.url()).searchParams.get("org")).toBe(await idOf(owner.organization));
    await expect.poll(() => page.getByTestId("platform-member-count").textContent()).toBe("1");
    expect(await page.getByTestId("platform-record-count").textContent()).toBe("2");
    expect(await page.locator(".platform-org .facts").textContent()).toContain(owner.email);
    await page.getByLabel("Reason for the suspension").fill("Invoice unpaid");
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByText("Suspended.").waitFor();
    expect(await page.getByTestId("platform-status").textContent()).toBe("active, suspended");
    expect(await page.locator(".platform-org .facts").textContent()).toContain("Invoice unpaid");
    await expectAccessible(page);
    await screenshot(page, "platform-organization");

    // The member's console, signed in before, says so in the service's words once reloaded.
    await member.page.reload();
    await expect.poll(() => member.page.getByRole("alert").first().textContent()).toBe(ERRORS.ORGANIZATION_SUSPENDED.message);
    expect(await member.page.locator(".facts").textContent()).toContain("suspended");
    // The counts load beside the alert's call: the record count goes once its own call is refused.
    await expect.poll(() => member.page.getByTestId("record-count").count()).toBe(0);
    await member.page.getByRole("link", { name: "Members" }).click();
    await expect.poll(() => member.page.getByRole("alert").first().textContent()).toBe(ERRORS.ORGANIZATION_SUSPENDED.message);

    await page.getByRole("button", { name: "Reactivate" }).click();
    await page.getByRole("button", { name: "Yes, reactivate" }).click();
    await page.getByText("Reactivated.").waitFor();
    expect(await page.getByTestId("platform-status").textContent()).toBe("active");

    // The member's console works again.
    await member.page.getByRole("link", { name: "Overview" }).click();
    await member.page.reload();
    await expect.poll(() => member.page.getByTestId("record-count").textContent()).toBe("2");
    expect(await member.page.getByRole("alert").count()).toBe(0);

    // A read key sees the organization but its suspend is refused, in the service's words, and nothing changes.
    const reader = await openConsole(rig.browser.context, origin, page.url().replace(origin, ""));
    await openWithKey(reader.page, OPERATOR_READ);
    await expect.poll(() => reader.page.getByTestId("platform-member-count").textContent()).toBe("1");
    await reader.page.getByLabel("Reason for the suspension").fill("Not allowed to");
    await reader.page.getByRole("button", { name: "Suspend" }).click();
    await expect.poll(() => reader.page.getByRole("alert").textContent()).toBe(ERRORS.PLATFORM_READ_ONLY.message);
    expect((await api(origin, "GET", `/platform/organizations/${await idOf(owner.organization)}`, { token: OPERATOR_READ })).json.suspended).toBe(false);

    // The key is gone with a reload, and was never stored.
    await page.reload();
    await page.getByLabel("Operator key").waitFor();
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))).not.toContain(OPERATOR_WRITE);
    for (const opened of [{ page, foreign, problems }, member, reader]) {
      expect(opened.foreign).toEqual([]);
      expect(opened.problems).toEqual([]);
    }
    for (const tab of [page, member.page, reader.page]) await tab.close();
  });

  it("deletes an organization once its name is typed", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, `/console/platform?org=${await idOf(owner.organization)}`);
    await openWithKey(page, OPERATOR_WRITE);
    const remove = page.getByRole("button", { name: "Delete the organization" });
    await remove.waitFor();
    expect(await remove.isDisabled()).toBe(true);
    await page.getByLabel("Organization name, to confirm").fill(`${owner.organization} `);
    expect(await remove.isDisabled()).toBe(true);
    await page.getByLabel("Organization name, to confirm").fill(owner.organization);
    await remove.click();
    await page.getByText(`Deleted ${owner.organization}.`).waitFor();
    await page.getByRole("button", { name: "Search" }).waitFor();
    expect((await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(owner.organization)}`)).status).toBe(404);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

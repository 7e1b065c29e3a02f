import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, fitsWidth, openConsole, screenshot, signIn, startRig, unique } from "./console-kit";

let rig: ConsoleRig;
let server: Server;
let hookUrl: string;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver on this machine: what it answers next, and every request it got. */
const receiver = { status: 200, received: [] as Received[] };

/** Whether a delivery's signature verifies with `secret`, checked as a customer's endpoint would (the Standard Webhooks library). */
const verifies = (delivery: Received | undefined, secret: string): boolean => {
  if (!delivery) return false;
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

const typeOf = (delivery: Received): string => JSON.parse(delivery.body).type;
const lastOfType = (type: string) => receiver.received.filter((delivery) => typeOf(delivery) === type).at(-1);

const logRows = (page: Page) => page.locator(".delivery-log tbody tr");

/**
 * Presses "Send a test": the receiver gets a `webhook.test` (feed events may arrive beside it), and
 * the view shows the outcome the service answered (the press clears the previous one).
 */
const sendTest = async (page: Page, expected: RegExp) => {
  const before = receiver.received.length;
  await page.getByRole("button", { name: "Send a test" }).click();
  await expect.poll(() => receiver.received.slice(before).some((delivery) => typeOf(delivery) === "webhook.test")).toBe(true);
  await expect
    .poll(() =>
      page
        .locator(".endpoint [role=status]")
        .filter({ hasText: /^Test delivery/ })
        .textContent(),
    )
    .toMatch(expected);
};

/** Refreshes the log until a row matching all of `texts` shows (the dispatcher sends feed events and redeliveries on its own time). */
const waitForRow = async (page: Page, texts: string[]) => {
  let row = logRows(page);
  for (const text of texts) row = row.filter({ hasText: text });
  await expect
    .poll(
      async () => {
        await page.getByRole("button", { name: "Refresh the log" }).click();
        return row.count();
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThan(0);
  return row.first();
};

const webhooksOf = async (token: string) => (await api(rig.worker.origin, "GET", "/org/webhooks", { token })).json.webhooks as { status: string }[];

describe.runIf(browserAvailable())("the console's webhooks view, delivering to a real receiver", () => {
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        receiver.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(receiver.status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    rig = await startRig();
    // The secret is taken as a person would: with the page's Copy button.
    await rig.browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: rig.worker.origin });
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("adds an endpoint, tests it, reads its log, redelivers a failure, rotates its secret and deletes it", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/webhooks");
    await signIn(page, owner);
    await page.getByText("No endpoints yet").waitFor();

    // URLs the service refuses (private address; plain http to a public host): its reason under the URL field, and nothing added.
    const urlField = page.getByLabel("URL", { exact: true });
    for (const refusedUrl of ["https://10.0.0.1/x", "http://example.com/hook"]) {
      await urlField.fill(refusedUrl);
      await page.getByRole("button", { name: "Add the endpoint" }).click();
      // The press moved the focus to the button; the refusal brings it back to the field.
      await expect.poll(() => urlField.evaluate((input) => input === document.activeElement)).toBe(true);
      expect(await urlField.getAttribute("aria-invalid")).toBe("true");
      expect(await page.locator("form .field-error").textContent()).toBe(ERRORS.WEBHOOK_URL_REFUSED.message);
      expect(await page.locator("form [role=alert]").count()).toBe(0);
      expect(await webhooksOf(owner.token)).toEqual([]);
      await page.getByText("No endpoints yet").waitFor();
    }

    await urlField.fill(hookUrl);
    await page.getByRole("button", { name: "Add the endpoint" }).click();
    const secretBox = page.locator(".secret").filter({ hasText: "Signing secret of the new endpoint" });
    await secretBox.getByRole("button", { name: "Copy" }).click();
    await secretBox.getByText("Copied").waitFor();
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    expect(secret).toMatch(/^whsec_/);
    expect(await secretBox.getByRole("textbox").inputValue()).toBe(secret);
    expect(await urlField.getAttribute("aria-invalid")).toBeNull();
    const endpoint = page.locator(".endpoint");
    expect(await endpoint.textContent()).toContain("every event type");

    // A test arrives signed with the copied secret; the service's answer and the log both say HTTP 200.
    await sendTest(page, /^Test delivery accepted: HTTP 200, in \d+ ms\.$/);
    expect(verifies(lastOfType("webhook.test"), secret)).toBe(true);
    expect(verifies(lastOfType("webhook.test"), "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).toBe(false);
    await page.getByRole("button", { name: "Show the delivery log" }).click();
    const firstTest = await waitForRow(page, ["webhook.test", "Accepted: HTTP 200"]);
    expect(await firstTest.getByRole("button", { name: "Redeliver" }).count()).toBe(0);

    // The receiver fails: the failed test is in the log, newest first.
    receiver.status = 500;
    await sendTest(page, /^Test delivery failed: HTTP 500, in \d+ ms\.$/);
    await page.getByRole("button", { name: "Refresh the log" }).click();
    await expect.poll(() => logRows(page).first().textContent()).toMatch(/webhook\.test.*Failed: HTTP 500/);
    // A test has no feed event to send again, so a feed event's failed delivery is the one redelivered.
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", {
      token: owner.token,
      body: { email: `hooked-${unique()}@example.com`, role: "member" },
    });
    expect(invited.status).toBe(201);
    const failed = await waitForRow(page, ["invitation.created", "Failed: HTTP 500"]);

    // The receiver works again: redelivered by hand from the log, and a successful attempt by hand shows.
    receiver.status = 200;
    await failed.getByRole("button", { name: "Redeliver" }).click();
    await page.getByRole("button", { name: "Yes, redeliver" }).click();
    await page.getByText("Redelivery of invitation.created queued").waitFor();
    await waitForRow(page, ["invitation.created", "by hand", "Accepted: HTTP 200"]);
    expect(verifies(lastOfType("invitation.created"), secret)).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "webhooks");
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 720 });

    // Rotation: a new secret, shown once, signs what follows; the old one signs beside it for a day.
    await page.getByRole("button", { name: "Rotate the secret" }).click();
    await page.getByRole("button", { name: "Yes, rotate the secret" }).click();
    const rotated = await endpoint.getByLabel("New signing secret").inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    const until = await endpoint.locator(".hint time").getAttribute("datetime");
    expect(Math.abs(Date.parse(until ?? "") - Date.now() - 86_400_000)).toBeLessThan(5 * 60_000);
    await sendTest(page, /^Test delivery accepted: HTTP 200/);
    expect(verifies(lastOfType("webhook.test"), rotated)).toBe(true);
    expect(verifies(lastOfType("webhook.test"), secret)).toBe(true);

    await endpoint.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByText("No endpoints yet").waitFor();
    expect(await page.locator(".endpoint").count()).toBe(0);
    expect(await webhooksOf(owner.token)).toEqual([]);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("explains an endpoint the service disabled, and offers no test, rotation or redelivery for it", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const added = await api(rig.worker.origin, "POST", "/org/webhooks", { token: owner.token, body: { url: hookUrl, events: ["invitation.created"] } });
    expect(added.status).toBe(201);
    // 410 Gone: the receiver asks never to be called again.
    receiver.status = 410;
    try {
      expect(
        (await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email: `gone-${unique()}@example.com`, role: "member" } }))
          .status,
      ).toBe(201);
      await expect.poll(async () => (await webhooksOf(owner.token))[0]?.status, { timeout: 20_000 }).toBe("disabled");
    } finally {
      receiver.status = 200;
    }
    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/webhooks");
    await signIn(page, owner);
    const endpoint = page.locator(".endpoint");
    await expect.poll(() => endpoint.locator(".error").textContent()).toContain("Why it is disabled: the endpoint answered 410 Gone.");
    const note = (await endpoint.locator(".error").textContent()) ?? "";
    expect(note).toContain("cannot be turned back on");
    expect(note).toContain("add it as a new endpoint");
    expect(await endpoint.textContent()).toContain("receives invitation.created");
    expect(await endpoint.getByRole("link", { name: "event feed" }).getAttribute("href")).toBe("/console/events");
    expect(await page.getByRole("button", { name: "Send a test" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Rotate the secret" }).count()).toBe(0);
    await page.getByRole("button", { name: "Show the delivery log" }).click();
    await logRows(page).filter({ hasText: "HTTP 410" }).first().waitFor();
    expect(await page.locator(".delivery-log").getByRole("button", { name: "Redeliver" }).count()).toBe(0);
    await expectAccessible(page);
    // At 390 px the log fits in three columns.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await expectAccessible(page);
    // At 280 px (the narrowest phones) it scrolls inside its frame, which holds no button here:
    // axe finds a frame like that unreachable by the keyboard unless the frame itself takes the focus.
    await page.setViewportSize({ width: 280, height: 844 });
    const frame = page.locator(".delivery-log .table-wrap");
    expect(await frame.evaluate((wrap) => wrap.scrollWidth > wrap.clientWidth)).toBe(true);
    await expectAccessible(page);
    await frame.focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => frame.evaluate((wrap) => wrap.scrollLeft)).toBeGreaterThan(0);
    await page.setViewportSize({ width: 1280, height: 720 });
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("pages the delivery log, newest first, with Load more", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const added = await api(rig.worker.origin, "POST", "/org/webhooks", { token: owner.token, body: { url: hookUrl } });
    expect(added.status).toBe(201);
    // The endpoint's own webhook.created first (the dispatcher sends it on its own time), then 21 tests: a page of 20 and two more.
    const deliveries = `/org/webhooks/${added.json.id}/deliveries`;
    await expect
      .poll(async () => ((await api(rig.worker.origin, "GET", deliveries, { token: owner.token })).json.deliveries as unknown[]).length, { timeout: 20_000 })
      .toBe(1);
    for (let i = 0; i < 21; i++) expect((await api(rig.worker.origin, "POST", `/org/webhooks/${added.json.id}/test`, { token: owner.token })).status).toBe(200);
    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/webhooks");
    await signIn(page, owner);
    await page.getByRole("button", { name: "Show the delivery log" }).click();
    await expect.poll(() => logRows(page).count()).toBe(20);
    await page.getByRole("button", { name: "Load more" }).click();
    await expect.poll(() => logRows(page).count(), { timeout: 20_000 }).toBe(22);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    const times = (
      await logRows(page)
        .locator("time")
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("datetime") ?? ""))
    ).map(Date.parse);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(await logRows(page).last().textContent()).toContain("webhook.created");
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("is not offered to a member whose role cannot manage webhooks", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const email = `member-${unique()}@example.com`;
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email, role: "member" } });
    expect(invited.status).toBe(201);
    expect((await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } })).status).toBe(200);
    const { page, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console");
    await signIn(page, { email, password: "Test1234!" });
    expect(await page.locator(".role").textContent()).toBe("member");
    const sections = await page.locator('nav[aria-label="Sections"] a').allTextContents();
    expect(sections).toContain("Members");
    expect(sections).not.toContain("Webhooks");
    // Opened by its address, the view says the role does not allow it.
    await page.goto(`${rig.worker.origin}/console/webhooks`);
    await page.getByRole("heading", { name: "Not available" }).waitFor();
    expect(await page.getByLabel("URL", { exact: true }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, openConsole, screenshot, signIn, startRig, unique } from "./console-kit";

let rig: ConsoleRig;
let server: Server;
let hookUrl: string;
/** What the receiver answers next, and what it received. */
const receiver = { status: 200, received: [] as { headers: IncomingHttpHeaders; body: string }[] };

/** Whether a delivery's signature verifies with `secret` (the Standard Webhooks library, as a customer's endpoint would check it). */
const verifies = (delivery: { headers: IncomingHttpHeaders; body: string }, secret: string): boolean => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

const lastTest = () => receiver.received.filter((d) => JSON.parse(d.body).type === "webhook.test").at(-1);

const sendTest = async (page: Page) => {
  const before = receiver.received.length;
  await page.getByRole("button", { name: "Send a test" }).click();
  await page
    .locator(".endpoint [role=status]")
    .filter({ hasText: /elivered/ })
    .waitFor();
  expect(receiver.received.length).toBeGreaterThan(before);
};

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

    // A URL the service refuses: its reason, in the form, and nothing added.
    await page.getByLabel("URL").fill("https://10.0.0.1/hook");
    await page.getByRole("button", { name: "Add the endpoint" }).click();
    await expect.poll(() => page.locator(".field-error, [role=alert]").first().textContent()).toMatch(/^Webhook URL refused: /);
    expect(((await api(rig.worker.origin, "GET", "/org/webhooks", { token: owner.token })).json.webhooks as unknown[]).length).toBe(0);

    await page.getByLabel("URL").fill(hookUrl);
    await page.getByRole("button", { name: "Add the endpoint" }).click();
    const secretField = page.getByLabel("Signing secret of the new endpoint");
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^whsec_/);

    // A test delivery arrives signed with that secret, and the log shows it.
    await sendTest(page);
    expect(verifies(lastTest() ?? { headers: {}, body: "" }, secret)).toBe(true);
    await page.getByRole("button", { name: "Show the delivery log" }).click();
    await expect.poll(() => page.locator(".delivery-log tbody tr").first().textContent()).toContain("HTTP 200");

    // A failing receiver: the failed test is logged, and so is a real event's failed delivery, which is redelivered by hand once the receiver works again.
    receiver.status = 500;
    await sendTest(page);
    await page.getByRole("button", { name: "Refresh the log" }).click();
    await expect.poll(() => page.locator(".delivery-log tbody tr").first().textContent()).toContain("HTTP 500");
    expect(
      (await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email: `hooked-${unique()}@example.com`, role: "member" } }))
        .status,
    ).toBe(201);
    // A test delivery has no feed event to send again: no Redeliver on its row.
    expect(await page.locator(".delivery-log tbody tr").first().getByRole("button", { name: "Redeliver" }).count()).toBe(0);
    const failedEvent = page.locator(".delivery-log tbody tr").filter({ hasText: "invitation.created" }).filter({ hasText: "HTTP 500" }).first();
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Refresh the log" }).click();
          return failedEvent.count();
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    receiver.status = 200;
    await failedEvent.getByRole("button", { name: "Redeliver" }).click();
    await page.getByRole("button", { name: "Yes, redeliver" }).click();
    await page.getByText("Redelivery").waitFor();
    const byHand = page.locator(".delivery-log tbody tr").filter({ hasText: "by hand" }).filter({ hasText: "HTTP 200" });
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Refresh the log" }).click();
          return byHand.count();
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    expect(receiver.received.some((d) => JSON.parse(d.body).type === "invitation.created")).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "webhooks");

    // Rotation: a new secret, shown once, that signs what follows (the old one signs beside it for a day).
    await page.getByRole("button", { name: "Rotate the secret" }).click();
    await page.getByRole("button", { name: "Yes, rotate the secret" }).click();
    const rotated = await page.locator(".endpoint").getByLabel("Signing secret").inputValue();
    expect(rotated).not.toBe(secret);
    await sendTest(page);
    expect(verifies(lastTest() ?? { headers: {}, body: "" }, rotated)).toBe(true);

    await page.locator(".endpoint").getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByText("No endpoints yet").waitFor();
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("explains an endpoint the service disabled, and offers no test or redelivery for it", async () => {
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
      await expect
        .poll(async () => ((await api(rig.worker.origin, "GET", "/org/webhooks", { token: owner.token })).json.webhooks as { status: string }[])[0]?.status, {
          timeout: 20_000,
        })
        .toBe("disabled");
    } finally {
      receiver.status = 200;
    }
    const { page, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/webhooks");
    await signIn(page, owner);
    const note = page.locator(".endpoint .error");
    await expect.poll(() => note.textContent()).toContain("410 Gone");
    expect(await note.textContent()).toContain("add it anew");
    expect(await page.getByRole("button", { name: "Send a test" }).count()).toBe(0);
    await page.getByRole("button", { name: "Show the delivery log" }).click();
    await page.locator(".delivery-log tbody tr").first().waitFor();
    expect(await page.locator(".delivery-log").getByRole("button", { name: "Redeliver" }).count()).toBe(0);
    await expectAccessible(page);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("is not offered to a member whose role cannot manage webhooks", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const email = `member-${unique()}@example.com`;
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email, role: "member" } });
    expect((await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } })).status).toBe(200);
    const { page } = await openConsole(rig.browser.context, rig.worker.origin, "/console");
    await signIn(page, { email, password: "Test1234!" });
    expect(await page.locator('nav[aria-label="Sections"] a').allTextContents()).not.toContain("Webhooks");
    await page.close();
  });
});

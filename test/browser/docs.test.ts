import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, browserAvailable, launchChromium } from "./chromium";
import { type RunningWorker, startWorker } from "./worker-process";

/** The contract's operations as Swagger UI and ReDoc label them. */
const OPERATIONS = ["POST /org/create", "GET /org/get", "PUT /org/update", "DELETE /org/delete", "POST /admin/login"];

let worker: RunningWorker;
let browser: Browser;

const api = async (path: string, body?: unknown) => {
  const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(`${worker.origin}${path}`, init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/**
 * A page that records what it asks for and what it complains about: the docs must work with no
 * internet, so every request stays on the Worker's origin, and a blocked one shows up as a console error.
 */
const openPage = async (path: string) => {
  const page = await browser.context.newPage();
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol !== "data:" && url.origin !== worker.origin) foreign.push(request.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${worker.origin}${path}`);
  return { page, foreign, problems };
};

/** The live response of an operation after "Execute": its status code and body as Swagger UI shows them. */
const liveResponse = async (page: Page, operationId: string) => {
  const row = page.locator(`#${operationId} .live-responses-table tr.response`).first();
  await row.waitFor();
  return {
    status: ((await row.locator(".response-col_status").textContent()) ?? "").trim(),
    body: JSON.parse((await row.locator(".response-col_description pre.microlight").first().textContent()) ?? "null") as Record<string, unknown>,
  };
};

const tryItOut = async (page: Page, operationId: string) => {
  const operation = page.locator(`#${operationId}`);
  await operation.locator(".opblock-summary").click();
  await operation.locator("button.try-out__btn").click();
  return operation;
};

describe.runIf(browserAvailable())("API documentation in headless Chromium", () => {
  beforeAll(async () => {
    worker = await startWorker();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  it("/docs lists the operations, authorises with a login token and runs a create through Try it out", async () => {
    const seed = { organization_name: `Docs Seed ${unique()}`, email: `seed-${unique()}@example.com`, password: "Test1234" };
    expect((await api("/org/create", seed)).status).toBe(200);
    const login = await api("/admin/login", { email: seed.email, password: seed.password });
    expect(login.status).toBe(200);
    const token = String(login.json.access_token);

    const { page, foreign, problems } = await openPage("/docs");
    await page.locator(".opblock").first().waitFor();
    const shown = await page
      .locator(".opblock-summary")
      .evaluateAll((rows) =>
        rows.map((row) => `${row.querySelector(".opblock-summary-method")?.textContent} ${row.querySelector(".opblock-summary-path")?.textContent}`),
      );
    expect(shown.map((label) => label.replace(/\u200b/g, ""))).toEqual(expect.arrayContaining(OPERATIONS));
    // Every operation of the document, each under its tag, in the document's order of tags.
    const doc = (await api("/openapi.json")).json as { tags: { name: string }[]; paths: Record<string, Record<string, unknown>> };
    const every = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(shown.map((label) => label.replace(/\u200b/g, "")).sort()).toEqual(every.sort());
    const groups = await page.locator(".opblock-tag").evaluateAll((tags) => tags.map((tag) => tag.getAttribute("data-tag")));
    expect(groups).toEqual(doc.tags.map((tag) => tag.name));

    await page.locator(".auth-wrapper button.authorize").click();
    const dialog = page.locator(".dialog-ux");
    // The admin's scheme; the platform operator's key (platformKey) has a form of its own beside it.
    const admin = dialog.locator(".auth-container").filter({ hasText: "bearerAuth" });
    await admin.locator("#auth-bearer-value").fill(token);
    await admin.locator("button.modal-btn.authorize").click();
    // Swagger UI marks the scheme "Authorized" once it holds the credential.
    await admin.getByText("Authorized", { exact: true }).waitFor();
    await admin.locator("button.btn-done").click();

    const created = { organization_name: `Docs UI ${unique()}`, email: `ui-${unique()}@example.com`, password: "Test1234" };
    const create = await tryItOut(page, "operations-Organizations-post_org_create");
    await create.locator("textarea.body-param__text").fill(JSON.stringify(created));
    await create.locator("button.execute").click();
    const createResult = await liveResponse(page, "operations-Organizations-post_org_create");
    expect(createResult.status).toBe("200");
    expect(createResult.body).toMatchObject({ organization_name: created.organization_name, admin_email: created.email });
    expect((await api(`/org/get?organization_name=${encodeURIComponent(created.organization_name)}`)).status).toBe(200);

    // The token from "Authorize" really goes out: only the organization's own admin is shown its e-mail.
    const get = await tryItOut(page, "operations-Organizations-get_org_get");
    await get.locator("input[placeholder='organization_name']").fill(seed.organization_name);
    await get.locator("button.execute").click();
    const getResult = await liveResponse(page, "operations-Organizations-get_org_get");
    expect(getResult.status).toBe("200");
    expect(getResult.body.admin_email).toBe(seed.email);

    expect(foreign, "requests that left the Worker's origin").toEqual([]);
    expect(problems, "console errors on /docs").toEqual([]);
    await page.close();
  }, 90_000);

  it("/redoc renders the document from the Worker's own assets", async () => {
    const { page, foreign, problems } = await openPage("/redoc");
    const root = page.locator("#redoc");
    // The operation's heading in the document pane: the sidebar's entry sits in a collapsed tag group.
    await root.getByRole("heading", { name: "Create an organization, its admin and its tenant collection" }).first().waitFor();
    const text = (await root.textContent()) ?? "";
    for (const operation of OPERATIONS) expect(text).toContain(operation.split(" ")[1]);
    expect(foreign, "requests that left the Worker's origin").toEqual([]);
    expect(problems, "console errors on /redoc").toEqual([]);
    await page.close();
  }, 60_000);
});

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, fitsWidth, type Owner, screenshot, signedInPage, startRig, unique } from "./console-kit";

let rig: ConsoleRig;

const typesShown = (page: Page) => page.locator(".events-type").allTextContents();

const recordsOf = async (owner: Owner) => {
  const listed = await api(rig.worker.origin, "GET", "/org/records?limit=200", { token: owner.token });
  expect(listed.status).toBe(200);
  return listed.json.records as { id: string; [field: string]: unknown }[];
};

const editorError = (page: Page) => page.locator(".records-editor [role=alert]").textContent();

describe.runIf(browserAvailable())("the console's data views: the event feed and the records", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("lists the organization's events, follows new ones without a reload, filters by type, and stops asking when left", async () => {
    const origin = rig.worker.origin;
    const owner = await createOrganization(origin);
    const { page, foreign, problems } = await signedInPage(rig, owner, "/console/events");
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.locator(".events-item", { hasText: "organization.created" }).waitFor();
    const before = await typesShown(page);
    expect(before).toContain("organization.created");
    // The owner made the organization: the actor is named by their address, as them.
    expect(await page.locator(".events-item", { hasText: "organization.created" }).locator(".events-actor").textContent()).toBe(`by ${owner.email} (you)`);
    // Set on this document: still there afterwards only if the page was never reloaded.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));

    const invitee = `invitee-${unique()}@example.com`;
    expect((await api(origin, "POST", "/org/invitations", { token: owner.token, body: { email: invitee, role: "member" } })).status).toBe(201);
    const key = await api(origin, "POST", "/org/api-keys", { token: owner.token, body: { name: "Reports", scopes: ["records:read"] } });
    expect(key.status).toBe(201);
    expect((await api(origin, "DELETE", `/org/api-keys/${key.json.id}`, { token: owner.token })).status).toBe(200);

    // Newest first, each exactly once, without a reload.
    await expect.poll(() => typesShown(page), { timeout: 15_000 }).toEqual(["api_key.revoked", "api_key.created", "invitation.created", ...before]);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator(".events-arrived").textContent()).toBe("3 new events since the page opened");
    // Its data: the invited address in the summary line, the whole data as JSON under "Data".
    const invitation = page.locator(".events-item", { hasText: "invitation.created" });
    expect(await invitation.locator(".events-summary").textContent()).toContain(invitee);
    await invitation.getByText("Data", { exact: true }).click();
    expect(JSON.parse((await invitation.locator("pre").textContent()) ?? "")).toMatchObject({ email: invitee, role: "member" });
    await expectAccessible(page);
    await screenshot(page, "events");
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 720 });

    // Filtered: only that type, and it still follows new ones of that type (and only those).
    await page.getByLabel("Event type").selectOption("invitation.created");
    await expect.poll(() => typesShown(page)).toEqual(["invitation.created"]);
    expect(new URL(page.url()).searchParams.get("type")).toBe("invitation.created");
    expect((await api(origin, "POST", "/org/api-keys", { token: owner.token, body: { name: "Other", scopes: ["records:read"] } })).status).toBe(201);
    expect(
      (await api(origin, "POST", "/org/invitations", { token: owner.token, body: { email: `second-${unique()}@example.com`, role: "admin" } })).status,
    ).toBe(201);
    await expect.poll(() => typesShown(page), { timeout: 15_000 }).toEqual(["invitation.created", "invitation.created"]);
    await page.getByLabel("Event type").selectOption("");
    await expect
      .poll(() => typesShown(page))
      .toEqual(["invitation.created", "api_key.created", "api_key.revoked", "api_key.created", "invitation.created", ...before]);

    // Left for another view: no more questions to the feed.
    let asked = 0;
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/org/events") asked++;
    });
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Records" }).click();
    await page.getByRole("heading", { name: "Records" }).waitFor();
    await page.waitForTimeout(5000);
    expect(asked).toBe(0);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("creates, refuses, shows, edits, pages through and deletes records", async () => {
    const origin = rig.worker.origin;
    const owner = await createOrganization(origin);
    const { page, foreign, problems } = await signedInPage(rig, owner, "/console/records");
    await page.getByRole("heading", { name: "Records" }).waitFor();
    await page.getByText("No records yet.").waitFor();

    await page.getByRole("link", { name: "New record" }).click();
    await page.getByRole("heading", { name: "New record" }).waitFor();
    const editor = page.getByLabel("Record (JSON)");
    const create = page.getByRole("button", { name: "Create record" });

    // Not JSON: said under the editor before any call, and nothing is stored.
    let posted = 0;
    const countPosts = (request: { method(): string; url(): string }) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === "/org/records") posted++;
    };
    page.on("request", countPosts);
    await editor.fill('{"a": }');
    await create.click();
    await expect.poll(() => editorError(page)).toMatch(/^Not valid JSON: /);
    expect(await editor.getAttribute("aria-invalid")).toBe("true");
    await editor.fill('{"a": 1,\n "b" 2}');
    await create.click();
    // Where the engine says, and the caret put there.
    await expect.poll(() => editorError(page)).toMatch(/position 14 \(line 2,? column 6\)/);
    expect(await editor.evaluate((area: HTMLTextAreaElement) => area.selectionStart)).toBe(14);
    await editor.fill("[1, 2]");
    await create.click();
    await expect.poll(() => editorError(page)).toBe('A record is a JSON object ({ "name": value, … }); this is an array.');
    expect(posted).toBe(0);
    page.off("request", countPosts);
    expect(await recordsOf(owner)).toEqual([]);
    await expectAccessible(page);

    // Bodies the service refuses: its own words, under the editor.
    await editor.fill('{"name": "Widget", "nested": {"$price": 3}}');
    await create.click();
    await expect.poll(() => editorError(page)).toBe("nested.$price: Field names must not start with '$'");
    await expectAccessible(page);
    await screenshot(page, "record-editor");
    await editor.fill('{"id": "mine"}');
    await create.click();
    await expect.poll(() => editorError(page)).toBe("id: 'id' is set by the server");
    await editor.fill(JSON.stringify({ blob: "x".repeat(70 * 1024) }));
    await create.click();
    await expect.poll(() => editorError(page)).toBe("Request body too large");
    expect(await recordsOf(owner)).toEqual([]);

    // Stored, then shown as JSON.
    await editor.fill('{\n  "name": "Widget",\n  "price": 9.5,\n  "tags": ["blue", "small"]\n}');
    await create.click();
    await page.getByRole("heading", { name: "Record", exact: true }).waitFor();
    await page.getByText("Record created.").waitFor();
    const [stored] = await recordsOf(owner);
    expect(stored).toMatchObject({ name: "Widget", price: 9.5, tags: ["blue", "small"] });
    const id = String(stored?.id);
    expect(new URL(page.url()).searchParams.get("id")).toBe(id);
    expect(JSON.parse((await page.locator(".records-json").textContent()) ?? "")).toEqual(stored);
    await expectAccessible(page);

    // Edited: the editor starts from its fields (not the ones the service sets), and the change is stored.
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("heading", { name: "Edit record" }).waitFor();
    expect(JSON.parse(await editor.inputValue())).toEqual({ name: "Widget", price: 9.5, tags: ["blue", "small"] });
    await editor.fill('{"name": "Gadget", "price": 12}');
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Record saved.").waitFor();
    const edited = await api(origin, "GET", `/org/records/${id}`, { token: owner.token });
    expect(edited.json).toMatchObject({ id, name: "Gadget", price: 12 });
    expect(edited.json).not.toHaveProperty("tags");
    expect(await page.locator(".records-json").textContent()).toContain('"Gadget"');

    // More than a page: 20 to a page, every record once.
    for (let n = 1; n <= 30; n++) expect((await api(origin, "POST", "/org/records", { token: owner.token, body: { n } })).status).toBe(201);
    await page.getByRole("link", { name: "All records" }).click();
    const rows = page.locator(".records-table tbody tr");
    await expect.poll(() => rows.count()).toBe(20);
    const ids = async () => (await page.locator(".records-table tbody tr td:first-child").allTextContents()).map((text) => text.trim());
    const first = await ids();
    expect(first[0]).toBe(id);
    expect(await page.getByRole("link", { name: "First page" }).count()).toBe(0);
    await expectAccessible(page);
    await screenshot(page, "records");
    await page.getByRole("link", { name: "Next page" }).click();
    await expect.poll(() => rows.count()).toBe(11);
    const second = await ids();
    expect(await page.getByRole("link", { name: "Next page" }).count()).toBe(0);
    expect(new Set([...first, ...second]).size).toBe(31);
    expect(await page.locator(".records-preview").last().textContent()).toBe('{"n":30}');
    await page.getByRole("link", { name: "First page" }).click();
    await expect.poll(() => ids()).toEqual(first);

    // At 390 px: nothing to scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    expect(await page.locator(".table-wrap").evaluate((wrap) => wrap.scrollWidth <= wrap.clientWidth)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 720 });

    // Deleted, after a second press.
    const victim = second[0] ?? "";
    await page.getByRole("link", { name: "Next page" }).click();
    await page.getByRole("link", { name: victim }).click();
    await page.getByRole("heading", { name: "Record", exact: true }).waitFor();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByText(`Record ${victim} deleted.`).waitFor();
    expect((await api(origin, "GET", `/org/records/${victim}`, { token: owner.token })).status).toBe(404);
    expect((await recordsOf(owner)).length).toBe(30);

    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows a member the records but not the event feed, which their role does not allow", async () => {
    const origin = rig.worker.origin;
    const owner = await createOrganization(origin);
    const member = { email: `member-${unique()}@example.com`, password: "Member1234!" };
    const invited = await api(origin, "POST", "/org/invitations", { token: owner.token, body: { email: member.email, role: "member" } });
    expect(invited.status).toBe(201);
    expect((await api(origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: member.password } })).status).toBe(200);
    expect((await api(origin, "POST", "/org/records", { token: owner.token, body: { note: "from the owner\u202Egnp.exe" } })).status).toBe(201);

    const { page, foreign, problems } = await signedInPage(rig, member, "/console/records");
    await page.getByRole("heading", { name: "Records" }).waitFor();
    const nav = await page.getByRole("navigation", { name: "Sections" }).getByRole("link").allTextContents();
    expect(nav).toContain("Records");
    expect(nav).not.toContain("Events");
    // A right-to-left override in a value is shown as the escape it is, not obeyed.
    expect(await page.locator(".records-preview").textContent()).toBe('{"note":"from the owner\\u202egnp.exe"}');
    // Members may write records: the editor is theirs too.
    expect(await page.getByRole("link", { name: "New record" }).count()).toBe(1);

    // Typed in by hand, the feed's address says it is not for this role.
    await page.goto(`${origin}/console/events`);
    await page.getByRole("heading", { name: "Not available" }).waitFor();
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { can, type Role } from "../../src/domain/kernel/roles";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, fitsWidth, openConsole, screenshot, signIn, startRig, unique } from "./console-kit";

let rig: ConsoleRig;

describe.runIf(browserAvailable())("the console's shell: sign-up, sign-in, the account, safety", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("serves every console path as one page under a strict policy, its files from the same origin", async () => {
    for (const path of ["/console", "/console/members", "/console/accept", "/console/platform"]) {
      const res = await fetch(`${rig.worker.origin}${path}`);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      const html = await res.text();
      // No inline script: every <script> loads a file of this origin.
      expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="/console/assets/app.js">']);
    }
    expect((await fetch(`${rig.worker.origin}/console/assets/app.js`)).headers.get("content-type")).toContain("javascript");
    expect((await fetch(`${rig.worker.origin}/console/assets/nothing.js`)).status).toBe(404);
  });

  it("signs up: creates an organization from the form and lands on its overview as its owner", async () => {
    const { page, foreign, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/create");
    await expectAccessible(page);
    await screenshot(page, "create");
    const name = `Signup ${unique()}`;
    await page.getByLabel("Organization name").fill(name);
    await page.getByLabel("Your e-mail").fill(`signup-${unique()}@example.com`);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create" }).click();
    // The service's 422, under the field it concerns.
    await expect.poll(() => page.locator(".field-error").first().textContent()).toContain("at least 8");
    await page.getByLabel("Password").fill("Test1234!");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
    expect(await page.locator(".who bdi").first().textContent()).toBe(name);
    expect(await page.locator(".role").textContent()).toBe("owner");
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("signs in, asks for the organization when the account has several, switches, and signs out", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const other = await createOrganization(rig.worker.origin);
    // The owner is invited to a second organization and accepts with their password.
    const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: other.token, body: { email: owner.email, role: "admin" } });
    expect(invited.status).toBe(201);
    const accepted = await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: owner.password } });
    expect(accepted.status).toBe(200);

    const { page, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await expectAccessible(page);
    await screenshot(page, "sign-in");
    await page.getByLabel("E-mail").fill(owner.email);
    await page.getByLabel("Password", { exact: true }).fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/incorrect|invalid/i);
    await signIn(page, { email: owner.email, password: owner.password, organization: owner.organization });
    expect(await page.locator(".who bdi").first().textContent()).toBe(owner.organization);

    await page.getByRole("button", { name: "Switch organization" }).click();
    await page.locator("#switch-org").fill(other.organization);
    await page.getByRole("button", { name: "Switch", exact: true }).click();
    await expect.poll(() => page.locator(".who bdi").first().textContent()).toBe(other.organization);
    expect(await page.locator(".role").textContent()).toBe("admin");

    // The token stays out of every URL and out of localStorage.
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("oms.console.session") ?? "{}").token as string);
    expect(token).toMatch(/^ey/);
    expect(page.url()).not.toContain(token);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("oms.console.session"))).toBeNull();
    expect(problems).toEqual([]);
    await page.close();
  });

  it("changes the password on the account page; the old one stops working", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const { page } = await openConsole(rig.browser.context, rig.worker.origin, "/console/account");
    await signIn(page, owner);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    await expectAccessible(page);
    await screenshot(page, "account");
    // A wrong current password is the service's 401 for the password, shown in the form: the session goes on.
    await page.getByLabel("Current password").fill("not-the-password");
    await page.getByLabel("New password").fill("Another1234!");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Invalid email or password");
    expect(await page.getByRole("button", { name: "Sign out", exact: true }).isVisible()).toBe(true);
    await page.getByLabel("Current password").fill(owner.password);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Password changed").waitFor();
    expect((await api(rig.worker.origin, "POST", "/admin/login", { body: { email: owner.email, password: owner.password } })).status).toBe(401);
    expect((await api(rig.worker.origin, "POST", "/admin/login", { body: { email: owner.email, password: "Another1234!" } })).status).toBe(200);
    // The console's own session carries on with the fresh token.
    await page.reload();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    await page.close();
  });

  it("renders a hostile organization name as text, its right-to-left override isolated, at 390 px wide", async () => {
    const hostile = `<img src=x onerror=alert(1)>\u202Egnp.exe ${"W".repeat(150)} ${unique()}`.slice(0, 200);
    const owner = await createOrganization(rig.worker.origin, hostile);
    const context = rig.browser.context;
    const { page, problems } = await openConsole(context, rig.worker.origin, "/console/sign-in");
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, owner);
    const shown = page.locator(".who bdi").first();
    expect(await shown.textContent()).toBe(hostile);
    expect(await page.locator("img").count()).toBe(0);
    expect(await shown.evaluate((node) => node.tagName)).toBe("BDI");
    expect(await fitsWidth(page)).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "hostile-name-390px");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows each role exactly the views its permissions allow, and refuses the others when opened directly", async () => {
    // The registry's member views and the permission each needs, as the console lists them.
    const views = [
      { title: "Overview", path: "/console" },
      { title: "Members", path: "/console/members", permission: "member:read" },
      { title: "Roles", path: "/console/roles", permission: "member:read" },
      { title: "Teams", path: "/console/teams", permission: "member:read" },
      { title: "Invitations", path: "/console/invitations", permission: "member:invite" },
      { title: "Domains", path: "/console/domains", permission: "domain:manage" },
      { title: "Records", path: "/console/records", permission: "records:read" },
      { title: "Events", path: "/console/events", permission: "audit:read" },
      { title: "Webhooks", path: "/console/webhooks", permission: "webhook:manage" },
      { title: "Settings", path: "/console/settings", permission: "organization:update" },
    ] as const;
    const owner = await createOrganization(rig.worker.origin);
    const people: { role: Role; email: string; password: string }[] = [{ role: "owner", email: owner.email, password: owner.password }];
    for (const role of ["admin", "member"] as const) {
      const email = `${role}-${unique()}@example.com`;
      const invited = await api(rig.worker.origin, "POST", "/org/invitations", { token: owner.token, body: { email, role } });
      expect(invited.status).toBe(201);
      expect((await api(rig.worker.origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } })).status).toBe(200);
      people.push({ role, email, password: "Test1234!" });
    }
    for (const person of people) {
      const { page, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
      await signIn(page, person);
      const listed = await page.locator('nav[aria-label="Sections"] a').allTextContents();
      const allowed = views.filter((view) => !("permission" in view) || can(person.role, view.permission));
      expect(listed, person.role).toEqual(allowed.map((view) => view.title));
      for (const view of views.filter((v) => !allowed.includes(v))) {
        await page.goto(`${rig.worker.origin}${view.path}`);
        await page.getByRole("heading", { name: "Not available" }).waitFor();
      }
      expect(problems).toEqual([]);
      await page.close();
    }
  });

  it("has no serious accessibility violation on the views without data: a lost password, sign-up, an unknown path, a link without its token", async () => {
    for (const [path, heading] of [
      ["/console/forgot-password", "Forgot your password"],
      ["/console/sign-up", "Sign up"],
      ["/console/no-such-view", "Not found"],
      ["/console/accept", "Accept an invitation"],
      ["/console/verify-email", "Verify your address"],
    ] as const) {
      const { page, problems } = await openConsole(rig.browser.context, rig.worker.origin, path);
      await page.getByRole("heading", { name: heading }).waitFor();
      await expectAccessible(page);
      expect(problems).toEqual([]);
      await page.close();
    }
  });

  it("is usable from the keyboard: the skip link comes first and focus is visible", async () => {
    const { page } = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).toBe("solid");
    await page.close();
  });
});

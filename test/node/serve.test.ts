import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Launched } from "../../scripts/processes.ts";
import { cronPeriodSeconds } from "../../scripts/serve/cron.ts";
import { launchServe } from "./serve-process.ts";

// `npm run serve` as a container runs it: the built Worker on workerd, its state in a folder of
// its own, its secret from the environment, and the scheduled work ticked by serve itself (every
// second here instead of every minute). Everything goes over HTTP on loopback, where a receiver
// stands for a customer's webhook endpoint.

const PASSWORD = "Test1234";
const state = mkdtempSync(join(tmpdir(), "serve-test-state-"));
const build = mkdtempSync(join(tmpdir(), "serve-test-build-"));
const env = { ...process.env, JWT_SECRET: randomBytes(32).toString("hex"), WEBHOOK_ALLOW_HTTP_LOOPBACK: "1", WRANGLER_SEND_METRICS: "false" };
let port = 0;
let origin = "";
let serve: Launched | undefined;
/** The bodies of the webhook deliveries the receiver got. */
const delivered: string[] = [];
let receiver: Server | undefined;

/** Starts `npm run serve` on the test's port and folder; `build` false reuses the first start's bundle. */
const start = async (build_ = true) => {
  serve = await launchServe({ port, state, outdir: build, env, build: build_, args: ["--tick-seconds", "1"] });
};

const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${origin}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      delivered.push(body);
      res.writeHead(204).end();
    });
  }).listen(0, "127.0.0.1");
  await new Promise((r) => receiver?.once("listening", r));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  await start();
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  receiver?.close();
  rmSync(state, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

describe("npm run serve", () => {
  const name = `Served ${Date.now().toString(36)}`;
  const renamed = `${name} renamed`;
  const email = `served-${Date.now().toString(36)}@example.com`;
  let auth: Record<string, string> = {};

  it("serves the docs pages' files from public/ through the ASSETS binding", async () => {
    const css = await fetch(`${origin}/docs-assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(css.headers.get("x-request-id")).toBeTruthy();
    expect((await fetch(`${origin}/docs`)).status).toBe(200);
    expect((await fetch(`${origin}/docs-assets/nothing-here.js`)).status).toBe(404);
  });

  it("serves the console: its page under its own policy at every console path, and its script", async () => {
    for (const path of ["/console", "/console/accept"]) {
      const page = await fetch(`${origin}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await page.text()).toContain('src="/console/assets/app.js"');
    }
    const script = await fetch(`${origin}/console/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
  });

  it("runs the main flow, and the scheduled work with no request asking for it", async () => {
    const created = await json("POST", "/org/create", { organization_name: name, email, password: PASSWORD });
    expect(created.status).toBe(200);
    const login = await json("POST", "/admin/login", { email, password: PASSWORD });
    expect(login.status).toBe(200);
    auth = { authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };

    const found = await json("GET", `/org/get?organization_name=${encodeURIComponent(name)}`, undefined, auth);
    expect(await found.json()).toMatchObject({ organization_name: name, admin_email: email, status: "active" });

    const stored = await json("POST", "/org/records", { plan: "pro" }, auth);
    expect(stored.status).toBe(201);
    const page = await json("GET", "/org/records?limit=10", undefined, auth);
    expect(((await page.json()) as { records: { plan: string }[] }).records.map((r) => r.plan)).toEqual(["pro"]);

    // A failed login's event waits in the organization's outbox; only the scheduled work publishes
    // it, to the feed and to webhooks (src/domain/auth/auth.ts). No request below changes the
    // organization, so the delivery can only come from serve's tick.
    const { port: receiverPort } = (receiver?.address() ?? {}) as AddressInfo;
    const hook = await json("POST", "/org/webhooks", { url: `http://127.0.0.1:${receiverPort}/hook`, events: ["admin.login_failed"] }, auth);
    expect(hook.status).toBe(201);
    // The endpoint's own event is published by its request, after the answer: let it finish first.
    await new Promise((r) => setTimeout(r, 500));
    expect((await json("POST", "/admin/login", { email, password: "Wrong1234" })).status).toBe(401);
    const began = Date.now();
    while (!delivered.some((body) => body.includes("admin.login_failed")) && Date.now() - began < 15_000) await new Promise((r) => setTimeout(r, 100));
    expect(delivered.filter((body) => body.includes("admin.login_failed"))).toHaveLength(1);
    expect(serve?.output()).toMatch(/"msg":"reconcile","cron":"\* \* \* \* \*".*"events":1/);

    const update = await json("PUT", "/org/update", { organization_name: name, new_organization_name: renamed }, auth);
    expect(update.status).toBe(200);
    expect(((await update.json()) as { organization_name: string }).organization_name).toBe(renamed);
  });

  it("keeps the organization on disk across a restart", async () => {
    await serve?.stop();
    await start(false);
    const found = await json("GET", `/org/get?organization_name=${encodeURIComponent(renamed)}`, undefined, auth);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ organization_name: renamed, admin_email: email });
    // The same JWT_SECRET from the environment: the token from before the restart still works.
    const page = await json("GET", "/org/records?limit=10", undefined, auth);
    expect(((await page.json()) as { records: { plan: string }[] }).records.map((r) => r.plan)).toEqual(["pro"]);

    const deleted = await json("DELETE", `/org/delete?organization_name=${encodeURIComponent(renamed)}`, undefined, { ...auth, "x-admin-email": email });
    expect(await deleted.json()).toEqual({ detail: "deleted" });
    expect((await json("GET", `/org/get?organization_name=${encodeURIComponent(renamed)}`)).status).toBe(404);
  });

  it("throttles logins by the TCP peer's address, whatever cf-connecting-ip a client sends", async () => {
    // wrangler.toml allows 100 a minute per address. Each attempt names another address and an
    // unknown e-mail of its own (no account lockout): the throttle still counts them as one client.
    // Windows are aligned to the clock, so one may turn over during the run: at most two windows'
    // worth get through, and with the addresses believed none would ever be refused.
    const statuses: number[] = [];
    for (let i = 0; i < 210 && !(statuses.length >= 5 && statuses.slice(-5).every((s) => s === 429)); i += 5) {
      const batch = Array.from({ length: 5 }, (_, j) =>
        json(
          "POST",
          "/admin/login",
          { email: `nobody-${i + j}@example.com`, password: PASSWORD },
          { "cf-connecting-ip": `198.51.${100 + Math.floor((i + j) / 250)}.${(i + j) % 250}` },
        ),
      );
      statuses.push(...(await Promise.all(batch)).map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(200);
    expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
  });
});

describe("serve's clock", () => {
  it("fires on the cron's cadence, and refuses a cron it cannot keep", () => {
    expect(cronPeriodSeconds("* * * * *")).toBe(60);
    expect(cronPeriodSeconds("*/5 * * * *")).toBe(300);
    expect(() => cronPeriodSeconds("0 3 * * *")).toThrow(/serve runs only/);
  });
});

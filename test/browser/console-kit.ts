import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { type Browser, launchChromium } from "./chromium";
import { type RunningWorker, startWorker } from "./worker-process";

/**
 * What every console test needs: the Worker as `npm start` runs it (embedded store), Chromium,
 * pages that record what they ask for and what they complain about, accessibility checks with
 * axe-core, and a screenshot of each page for the docs.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const require = createRequire(join(ROOT, "package.json"));

/** The operator keys the console tests sign in with (scripts and the Worker alike read this format). */
export const OPERATOR_WRITE = "test-console-operator-write-0123456789";
export const OPERATOR_READ = "test-console-operator-read-01234567890";

/**
 * The test DNS server (scripts/with-dns.sh), where the domain tests publish the records the Worker
 * looks up; without it the Worker asks a port where nothing answers, never a resolver on the internet.
 */
export const DNS_DOH_URL = process.env.DNS_DOH_URL ?? "";
export const DNS_CONTROL_URL = process.env.DNS_CONTROL_URL ?? "";

export const CONSOLE_VARS: Record<string, string> = {
  PLATFORM_API_KEYS: `console-read:read:${OPERATOR_READ},console-write:write:${OPERATOR_WRITE}`,
  // The webhook test delivers to a receiver on this machine.
  WEBHOOK_ALLOW_HTTP_LOOPBACK: "1",
  DNS_RESOLVER_URL: DNS_DOH_URL || "http://127.0.0.1:9/dns-query",
};

/** Mailpit (scripts/with-mailpit.sh): its API, where the tests read what the Worker mailed, and its SMTP port. */
export const MAILPIT = process.env.MAILPIT_API_URL ?? "";
const SMTP_PORT = process.env.MAILPIT_SMTP_PORT ?? "";

/**
 * Whether the suites that need `what` have it: under CI a missing one fails the run rather than
 * skipping them unseen; elsewhere they are skipped with a word saying how to run them.
 */
export const serversAvailable = (what: { mail?: boolean; dns?: boolean }, suite: string): boolean => {
  const missing = [
    what.mail && !(MAILPIT && SMTP_PORT) ? "scripts/with-mailpit.sh" : "",
    what.dns && !(DNS_DOH_URL && DNS_CONTROL_URL) ? "scripts/with-dns.sh" : "",
  ].filter(Boolean);
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`${suite} need ${missing.join(" and ")}: run the browser suite under them`);
  console.warn(`skipping ${suite}: run them under ${missing.join(" and ")}`);
  return false;
};

/** The Worker's settings for mailing to Mailpit over SMTP, its links pointing back at the console. */
export const mailVars = (origin: string): Record<string, string> => ({
  MAIL_TRANSPORT: "smtp",
  SMTP_HOST: "127.0.0.1",
  SMTP_PORT,
  SMTP_SECURITY: "off",
  SMTP_USER: "local",
  SMTP_PASSWORD: "local-only",
  MAIL_FROM: "accounts@console.test",
  MAIL_LINK_BASE_URL: `${origin}/console/`,
});

/** The link of the newest message to `address` whose subject matches, once Mailpit has it. */
export const linkMailedTo = async (address: string, subject: RegExp): Promise<string> => {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const found = (await (await fetch(`${MAILPIT}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`)).json()) as {
      messages: { ID: string; Subject: string }[];
    };
    const message = found.messages.find((m) => subject.test(m.Subject));
    if (message) {
      const { Text } = (await (await fetch(`${MAILPIT}/api/v1/message/${message.ID}`)).json()) as { Text: string };
      const link = /https?:\/\/\S+#token=\S+/.exec(Text)?.[0];
      if (!link) throw new Error(`no link in the message: ${Text}`);
      return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no message matching ${subject} reached ${address}`);
};

export interface ConsoleRig {
  worker: RunningWorker;
  browser: Browser;
  stop: () => Promise<void>;
}

export const startRig = async (vars: Record<string, string> | ((origin: string) => Record<string, string>) = {}): Promise<ConsoleRig> => {
  const worker = await startWorker({ vars: (origin) => ({ ...CONSOLE_VARS, ...(typeof vars === "function" ? vars(origin) : vars) }) });
  const browser = await launchChromium();
  return {
    worker,
    browser,
    stop: async () => {
      await browser.close();
      await worker.stop();
    },
  };
};

export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** The service's API, from the test (to set things up the test is not about). */
export const api = async (origin: string, method: string, path: string, { body, token }: { body?: unknown; token?: string } = {}) => {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${origin}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown> & { detail?: unknown } };
};

export interface Owner {
  organization: string;
  email: string;
  password: string;
  token: string;
}

/** A new organization and its owner, made through the API. */
export const createOrganization = async (origin: string, name = `Console Org ${unique()}`): Promise<Owner> => {
  const owner = { organization: name, email: `owner-${unique()}@example.com`, password: "Test1234!" };
  const created = await api(origin, "POST", "/org/create", { body: { organization_name: owner.organization, email: owner.email, password: owner.password } });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  const login = await api(origin, "POST", "/admin/login", { body: { email: owner.email, password: owner.password } });
  expect(login.status).toBe(200);
  return { ...owner, token: String(login.json.access_token) };
};

export interface ConsolePage {
  page: Page;
  /** Requests that left the Worker's origin (the console must make none). */
  foreign: string[];
  /** Console errors, page errors and Content-Security-Policy violations. */
  problems: string[];
}

/** A page of the console in `context`, watched for requests off the origin and for errors. */
/** Nothing the page loaded came from elsewhere, and nothing it logged was a problem. */
export const expectClean = (...tabs: ConsolePage[]) => {
  for (const tab of tabs) {
    expect(tab.foreign).toEqual([]);
    expect(tab.problems).toEqual([]);
  }
};

export const openConsole = async (context: BrowserContext, origin: string, path = "/console"): Promise<ConsolePage> => {
  const page = await context.newPage();
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol !== "data:" && url.origin !== origin) foreign.push(request.url());
  });
  page.on("console", (message) => {
    // A refused call is logged by Chromium as a failed resource; the console shows it on the page instead.
    if (message.type() === "error" && !/status of (4\d\d)/.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${origin}${path}`);
  await page.locator("#main h1").first().waitFor();
  return { page, foreign, problems };
};

/**
 * Signs in through the form. With `organization`, it is named only if the service asks for it
 * (an account in several organizations), as a person would.
 */
export const signIn = async (page: Page, { email, password, organization }: { email: string; password: string; organization?: string }) => {
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const signedIn = page.getByRole("button", { name: "Sign out", exact: true });
  const field = page.getByRole("textbox", { name: "Organization" });
  await signedIn.or(field).first().waitFor();
  if (organization && (await field.isVisible())) {
    await field.fill(organization);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await signedIn.waitFor();
};

/** A new context (its own session storage) with a console page open at `path`, signed in as `who`. */
export const signedInPage = async (
  rig: ConsoleRig,
  who: { email: string; password: string; organization?: string },
  path = "/console",
): Promise<ConsolePage> => {
  const opened = await openConsole(rig.browser.context, rig.worker.origin, path);
  await signIn(opened.page, who);
  return opened;
};

const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core's serious and critical violations on the page as it stands (WCAG 2.1 A and AA rules
 * and best practices). Evaluated through the DevTools protocol, which the page's policy does not
 * govern, so the console's Content-Security-Policy stays on while it is checked.
 */
export const seriousViolations = async (page: Page): Promise<string[]> => {
  const violations = (await page.evaluate(
    `(async () => { ${AXE_SOURCE}; const result = await axe.run(document, { resultTypes: ["violations"] }); return result.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map((n) => ({ target: n.target })) })); })()`,
  )) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((n) => n.target.join(" ")).join(", ")}`);
};

/** Fails the test with axe's findings when the page has any serious or critical violation. */
export const expectAccessible = async (page: Page) => {
  expect(await seriousViolations(page)).toEqual([]);
};

/**
 * Saves a screenshot of the page for the docs (docs/console.md shows them): into
 * CONSOLE_SCREENSHOTS (`docs/images/console` to refresh the docs' copies), else a git-ignored folder.
 */
export const screenshot = async (page: Page, name: string) => {
  const dir = join(ROOT, process.env.CONSOLE_SCREENSHOTS ?? ".cache/console-screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
};

/** The page's content is no wider than its viewport: nothing to scroll sideways at 390 px. */
export const fitsWidth = (page: Page): Promise<boolean> => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

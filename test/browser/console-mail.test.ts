import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import { api, type ConsoleRig, createOrganization, expectAccessible, openConsole, screenshot, signIn, startRig } from "./console-kit";

/**
 * The mailed links, end to end: the Worker mails over SMTP to a real Mailpit
 * (scripts/with-mailpit.sh, which CI runs this suite under), the test reads the message from
 * Mailpit's API, and the browser follows its link into the console.
 */
const MAILPIT = process.env.MAILPIT_API_URL ?? "";
const SMTP_PORT = process.env.MAILPIT_SMTP_PORT ?? "";

const mailpitAvailable = (): boolean => {
  if (MAILPIT && SMTP_PORT) return true;
  if (process.env.CI) throw new Error("MAILPIT_API_URL is not set: run the browser suite under scripts/with-mailpit.sh");
  console.warn("skipping the console's mail tests: run them under scripts/with-mailpit.sh");
  return false;
};

/** The link of the newest message to `address` whose subject matches, once Mailpit has it. */
const linkMailedTo = async (address: string, subject: RegExp): Promise<string> => {
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

let rig: ConsoleRig;

describe.runIf(browserAvailable() && mailpitAvailable())("the console's mailed links, through a real mail server", () => {
  beforeAll(async () => {
    rig = await startRig((origin) => ({
      MAIL_TRANSPORT: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT,
      SMTP_SECURITY: "off",
      SMTP_USER: "local",
      SMTP_PASSWORD: "local-only",
      MAIL_FROM: "accounts@console.test",
      MAIL_LINK_BASE_URL: `${origin}/console/`,
    }));
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("resets a forgotten password from the mailed link; the token leaves the address bar", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const { page, problems } = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("E-mail").fill(owner.email);
    await page.getByRole("button", { name: "Send a reset link" }).click();
    await page.getByText("a link to choose a new password is on its way").waitFor();

    const link = await linkMailedTo(owner.email, /password/i);
    expect(link.startsWith(`${rig.worker.origin}/console/reset-password#token=`)).toBe(true);
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    expect(page.url()).toBe(`${rig.worker.origin}/console/reset-password`);
    await expectAccessible(page);
    await screenshot(page, "reset-password");
    await page.getByLabel("New password", { exact: true }).fill("Recovered1234!");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByText("Your password is changed").waitFor();

    await page.getByRole("link", { name: "Sign in" }).last().click();
    await signIn(page, { email: owner.email, password: "Recovered1234!" });
    expect((await api(rig.worker.origin, "POST", "/admin/login", { body: { email: owner.email, password: owner.password } })).status).toBe(401);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("verifies the address from the mailed link, which a used link cannot do twice", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const { page } = await openConsole(rig.browser.context, rig.worker.origin, "/console/account");
    await signIn(page, owner);
    await page.getByRole("button", { name: "Send a verification link" }).click();
    await page.getByText("A verification link is on its way").waitFor();

    const link = await linkMailedTo(owner.email, /verify|confirm/i);
    await page.goto(link);
    await page.getByRole("heading", { name: "Verify your address" }).waitFor();
    await expectAccessible(page);
    await page.getByRole("button", { name: "Verify my address" }).click();
    await page.getByText("Your address is verified").waitFor();

    // The same link again, opened afresh: the service's refusal, shown on the page.
    await page.goto("about:blank");
    await page.goto(link);
    await page.getByRole("button", { name: "Verify my address" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/invalid|expired|used/i);
    // A new token says so: its claims are read at sign-in.
    const login = await api(rig.worker.origin, "POST", "/admin/login", { body: { email: owner.email, password: owner.password } });
    const claims = JSON.parse(Buffer.from(String(login.json.access_token).split(".")[1] ?? "", "base64url").toString()) as { email_verified?: boolean };
    expect(claims.email_verified).toBe(true);
    await page.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable } from "./chromium";
import {
  api,
  type ConsoleRig,
  createOrganization,
  expectAccessible,
  linkMailedTo,
  mailVars,
  openConsole,
  screenshot,
  serversAvailable,
  signIn,
  startRig,
} from "./console-kit";

/**
 * The mailed links, end to end: the Worker mails over SMTP to a real Mailpit
 * (scripts/with-mailpit.sh, which CI runs this suite under), the test reads the message from
 * Mailpit's API, and the browser follows its link into the console.
 */
let rig: ConsoleRig;

describe.runIf(browserAvailable() && serversAvailable({ mail: true }, "the console's mail tests"))(
  "the console's mailed links, through a real mail server",
  () => {
    beforeAll(async () => {
      rig = await startRig(mailVars);
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
  },
);

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { browserAvailable } from "./chromium";
import {
  api,
  type ConsoleRig,
  createOrganization,
  DNS_CONTROL_URL,
  expectAccessible,
  expectClean,
  fitsWidth,
  linkMailedTo,
  MAILPIT,
  mailVars,
  type Owner,
  openConsole,
  screenshot,
  serversAvailable,
  signedInPage,
  signIn,
  startRig,
  unique,
} from "./console-kit";

/**
 * Verified domains and joining by them, end to end: the owner claims a domain on the page, the
 * test publishes its record on the test DNS server (scripts/with-dns.sh) that the Worker looks it
 * up on, people sign up at the domain and prove their address through the link mailed to Mailpit
 * (scripts/with-mailpit.sh), then join at once or ask to and are let in from the Members page.
 */
let rig: ConsoleRig;

interface Domain {
  id: string;
  domain: string;
  status: string;
  record: { name: string; value: string };
  last_error: string | null;
  policy: string | null;
  role: string | null;
}

const domainsOf = async (owner: Owner) => (await api(rig.worker.origin, "GET", "/org/domains", { token: owner.token })).json.domains as Domain[];
const membersOf = async (owner: Owner) =>
  (await api(rig.worker.origin, "GET", "/org/members", { token: owner.token })).json.members as { email: string; role: string }[];
const requestsOf = async (owner: Owner) =>
  (await api(rig.worker.origin, "GET", "/org/join-requests", { token: owner.token })).json.requests as { email: string; user_id: string }[];

/** What the service suggests to the account, by a token of its own (a sign-in with its password). */
const suggestionsFor = async (who: { email: string; password: string }) => {
  const login = await api(rig.worker.origin, "POST", "/admin/login", { body: who });
  expect(login.status, JSON.stringify(login.json)).toBe(200);
  const answer = await api(rig.worker.origin, "GET", "/auth/suggestions", { token: String(login.json.access_token) });
  expect(answer.status).toBe(200);
  return answer.json as { email_verified: boolean; suggestions: { organization_name: string; policy: string; requested: boolean }[] };
};

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

/** The record published where the Worker's resolver reads it. */
const publish = async (record: { name: string; value: string }) => {
  const published = await fetch(`${DNS_CONTROL_URL}/records/${record.name}`, { method: "PUT", body: JSON.stringify({ txt: [record.value] }) });
  expect(published.ok).toBe(true);
};

/** A fresh domain under the test DNS server's reach (nothing is published there until the test does). */
const freshDomain = () => `d${unique()}.test`;

/** A domain claimed, published and verified through the API, with its policy: what the suggest test is not about. */
const verifiedDomain = async (owner: Owner, policy: { policy: string; role?: string }) => {
  const domain = freshDomain();
  const claimed = await api(rig.worker.origin, "POST", "/org/domains", { token: owner.token, body: { domain } });
  expect(claimed.status, JSON.stringify(claimed.json)).toBe(201);
  const { id, record } = claimed.json as unknown as Domain;
  await publish(record);
  expect((await api(rig.worker.origin, "POST", `/org/domains/${id}/verify`, { token: owner.token })).json.status).toBe("verified");
  expect((await api(rig.worker.origin, "PATCH", `/org/domains/${id}`, { token: owner.token, body: policy })).status).toBe(200);
  return domain;
};

/** Signs up on the page, from the sign-in page's link, and lands on the welcome page. */
const signUpOnPage = async (page: Page, who: { email: string; password: string }) => {
  await page.getByRole("link", { name: "Sign up" }).click();
  await page.getByRole("heading", { name: "Sign up" }).waitFor();
  await page.getByLabel("Your e-mail").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("heading", { name: "Join your organization" }).waitFor();
  expect(new URL(page.url()).pathname).toBe("/console/welcome");
};

/** Follows the mailed verification link in `page` and presses its button. */
const proveAddress = async (page: Page, email: string) => {
  await page.goto(await linkMailedTo(email, /verify|confirm/i));
  await page.getByRole("button", { name: "Verify my address" }).click();
  await page.getByText("Your address is verified").waitFor();
};

/** Every verification link mailed to `address`, the newest first. */
const verificationLinksTo = async (address: string): Promise<string[]> => {
  const found = (await (await fetch(`${MAILPIT}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`)).json()) as {
    messages: { ID: string; Subject: string; Created: string }[];
  };
  const messages = found.messages.filter((m) => /verify|confirm/i.test(m.Subject)).sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
  return Promise.all(
    messages.map(async ({ ID }) => {
      const { Text } = (await (await fetch(`${MAILPIT}/api/v1/message/${ID}`)).json()) as { Text: string };
      return /https?:\/\/\S+#token=\S+/.exec(Text)?.[0] ?? "";
    }),
  );
};

/** A mailed link opened in a tab of its own (no session in it) and its button pressed. */
const followInNewTab = async (link: string) => {
  const tab = await openConsole(rig.browser.context, rig.worker.origin, link.slice(rig.worker.origin.length));
  await tab.page.getByRole("button", { name: "Verify my address" }).click();
  return tab;
};

const card = (page: Page, name: string) => page.getByRole("region", { name, exact: true });

describe.runIf(browserAvailable() && serversAvailable({ mail: true, dns: true }, "the console's domain tests"))(
  "the console's domains, sign-up and joining by domain",
  () => {
    beforeAll(async () => {
      rig = await startRig(mailVars);
    }, 120_000);

    afterAll(async () => {
      await rig?.stop();
    });

    it("claims and verifies a domain on the page; a person who signs up at it joins from the welcome page once it is auto_join", async () => {
      const owner = await createOrganization(rig.worker.origin);
      const ownerTab = await signedInPage(rig, owner, "/console/domains");
      const { page } = ownerTab;
      await page.getByText("No domains yet.").waitFor();
      const domain = freshDomain();

      // Claimed: the record to publish is on the page, as the service answers it.
      const claim = page.getByRole("form", { name: "Claim a domain" });
      await claim.getByLabel("Domain").fill(domain);
      await claim.getByRole("button", { name: "Claim" }).click();
      const domainCard = card(page, domain);
      await domainCard.waitFor();
      const [claimed] = await domainsOf(owner);
      expect(claimed).toMatchObject({ domain, status: "pending", policy: null });
      expect(claimed?.record.name).toBe(`_org-verification.${domain}`);
      expect(await domainCard.locator(".domain-record code").allTextContents()).toEqual([claimed?.record.name, claimed?.record.value]);
      expect(await domainCard.getByRole("button", { name: "Copy the value" }).count()).toBe(1);
      // The same domain again, and a public mail domain: the service's words in the form.
      await claim.getByLabel("Domain").fill(domain);
      await claim.getByRole("button", { name: "Claim" }).click();
      await expect.poll(() => claim.getByRole("alert").textContent()).toBe(ERRORS.DOMAIN_EXISTS.message);
      await claim.getByLabel("Domain").fill("gmail.com");
      await claim.getByRole("button", { name: "Claim" }).click();
      await expect.poll(() => claim.getByRole("alert").textContent()).toBe(ERRORS.DOMAIN_PUBLIC.message);
      // Not a domain name: the service's words under the field.
      const refused = await api(rig.worker.origin, "POST", "/org/domains", { token: owner.token, body: { domain: "not_a_domain" } });
      expect(refused.status).toBe(422);
      await claim.getByLabel("Domain").fill("not_a_domain");
      await claim.getByRole("button", { name: "Claim" }).click();
      await expect.poll(() => claim.locator(".field-error").textContent()).toBe((refused.json.detail as { msg: string }[])[0]?.msg);
      expect(await claim.getByLabel("Domain").getAttribute("aria-invalid")).toBe("true");
      expect((await domainsOf(owner)).map((each) => each.domain)).toEqual([domain]);

      // Verified before the record is published: why not, in the service's words.
      await domainCard.getByRole("button", { name: "Verify", exact: true }).click();
      const why = domainCard.getByRole("form", { name: `Verify ${domain}` }).getByRole("alert");
      await why.waitFor();
      const [unpublished] = await domainsOf(owner);
      expect(unpublished?.status).toBe("pending");
      expect(unpublished?.last_error).toBeTruthy();
      expect(await why.textContent()).toBe(`Not verified: ${unpublished?.last_error}`);
      await expectAccessible(page);

      // Published on the test DNS server: verified.
      await publish(claimed?.record as Domain["record"]);
      await domainCard.getByRole("button", { name: "Verify", exact: true }).click();
      await domainCard.getByText("Verified: the record holds its value.").waitFor();
      await domainCard.getByRole("button", { name: "Check again" }).waitFor();
      expect((await domainsOf(owner))[0]).toMatchObject({ status: "verified", last_error: null });

      // A person signs up at the domain from the sign-in page: an account in no organization, whose address is not yet proven.
      const person = { email: `dana-${unique()}@${domain}`, password: "Sign-up-1234" };
      const personTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
      const mine = personTab.page;
      await signUpOnPage(mine, person);
      await mine.getByText("Verify your address first").waitFor();
      expect(await mine.getByRole("button", { name: "Sign out", exact: true }).isVisible()).toBe(true);
      expect(await mine.getByRole("navigation", { name: "Sections" }).count()).toBe(0);
      const stored = await mine.evaluate(() => JSON.parse(sessionStorage.getItem("oms.console.session") ?? "{}") as { token?: string });
      expect(claimsOf(String(stored.token))).toMatchObject({ scope: "account" });
      expect(claimsOf(String(stored.token)).org_id).toBeUndefined();
      expect(await suggestionsFor(person)).toMatchObject({ email_verified: false, suggestions: [] });
      await expectAccessible(mine);
      await screenshot(mine, "welcome-unverified");
      // No member page opens for an account in no organization: each leads back here.
      for (const path of ["/console", "/console/members", "/console/domains", "/console/account"]) {
        await mine.goto(`${rig.worker.origin}${path}`);
        await mine.getByRole("heading", { name: "Join your organization" }).waitFor();
        expect(new URL(mine.url()).pathname).toBe("/console/welcome");
      }

      // The address proven through the mailed link; the domain lets nobody in yet (no policy).
      await proveAddress(mine, person.email);
      await mine.getByRole("link", { name: "Open the console" }).click();
      await mine.getByText("No organization uses your domain").waitFor();
      expect(await suggestionsFor(person)).toMatchObject({ email_verified: true, suggestions: [] });

      // The owner lets people at the domain join at once, as members.
      await domainCard.getByLabel(`Who may join by ${domain}`).selectOption("auto_join");
      expect(await domainCard.getByLabel("As", { exact: true }).locator("option").allTextContents()).toEqual(["member", "admin"]);
      await domainCard.getByLabel("As", { exact: true }).selectOption("member");
      await domainCard.getByRole("button", { name: "Save the policy" }).click();
      await domainCard.getByText("Policy saved.").waitFor();
      expect((await domainsOf(owner))[0]).toMatchObject({ policy: "auto_join", role: "member" });
      // As a reload shows it: what the page keeps is what the service answers.
      await page.reload();
      await domainCard.getByRole("button", { name: "Check again", exact: true }).waitFor();
      expect(await domainCard.getByLabel(`Who may join by ${domain}`).inputValue()).toBe("auto_join");
      await expectAccessible(page);
      await screenshot(page, "domains");

      // The welcome page now offers the organization; joining signs the tab in to it.
      await mine.reload();
      const offer = card(mine, owner.organization);
      await offer.getByText("You may join it at once, as member.").waitFor();
      expect((await suggestionsFor(person)).suggestions).toMatchObject([{ organization_name: owner.organization, policy: "auto_join", requested: false }]);
      await expectAccessible(mine);
      await screenshot(mine, "welcome");
      await mine.setViewportSize({ width: 390, height: 844 });
      expect(await fitsWidth(mine)).toBe(true);
      await offer.getByRole("button", { name: "Join", exact: true }).click();
      await mine.waitForURL(`${rig.worker.origin}/console`);
      await expect.poll(() => mine.locator(".who bdi").first().textContent()).toBe(owner.organization);
      expect(await mine.locator(".role").textContent()).toBe("member");
      expect((await membersOf(owner)).find((member) => member.email === person.email)?.role).toBe("member");
      expect((await suggestionsFor(person)).suggestions).toEqual([]);

      // Another person, signed up once the policy is set, joins as the mailed link proves the address; the account's tab then signs in to open it.
      const second = { email: `eli-${unique()}@${domain}`, password: "Sign-up-1234" };
      const secondTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
      await signUpOnPage(secondTab.page, second);
      await proveAddress(secondTab.page, second.email);
      await secondTab.page.getByText(`you joined ${owner.organization} as member by its domain`).waitFor();
      expect((await membersOf(owner)).find((member) => member.email === second.email)?.role).toBe("member");
      await expectAccessible(secondTab.page);
      await secondTab.page.getByRole("link", { name: "Sign in", exact: true }).last().click();
      await secondTab.page.getByText(`You joined ${owner.organization}: sign in to open it.`).waitFor();
      await signIn(secondTab.page, second);
      await expect.poll(() => secondTab.page.locator(".who bdi").first().textContent()).toBe(owner.organization);

      // At 390 px nothing on the domains view scrolls sideways, the record's long value included.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await fitsWidth(page)).toBe(true);
      expectClean(ownerTab, personTab, secondTab);
      for (const tab of [ownerTab, personTab, secondTab]) await tab.page.close();
    });

    it("keeps the allowed invitation domains, and releases a domain once confirmed", async () => {
      const owner = await createOrganization(rig.worker.origin);
      const domain = freshDomain();
      expect((await api(rig.worker.origin, "POST", "/org/domains", { token: owner.token, body: { domain } })).status).toBe(201);
      const tab = await signedInPage(rig, owner, "/console/domains");
      const { page } = tab;
      const domainCard = card(page, domain);
      await domainCard.waitFor();
      await page.getByText("Invitations may go to any address.", { exact: true }).waitFor();

      const allowed = page.getByRole("form", { name: "Allowed invitation domains" });
      await allowed.getByLabel("Allowed domains, one a line").fill(`${domain}\nexample.org`);
      await allowed.getByRole("button", { name: "Save the allowed domains" }).click();
      await page.getByText("Allowed domains saved.").waitFor();
      await expect
        .poll(() => page.getByRole("list", { name: "Allowed invitation domains" }).getByRole("listitem").allTextContents())
        .toEqual([domain, "example.org"]);
      expect((await api(rig.worker.origin, "GET", "/org/invitation-domains", { token: owner.token })).json.domains).toEqual([domain, "example.org"]);
      const elsewhere = await api(rig.worker.origin, "POST", "/org/invitations", {
        token: owner.token,
        body: { email: `x-${unique()}@example.com`, role: "member" },
      });
      expect(elsewhere.status).toBe(422);
      // A name the service refuses: its words, and nothing changed.
      const refused = await api(rig.worker.origin, "PUT", "/org/invitation-domains", { token: owner.token, body: { domains: ["not_a_domain"] } });
      expect(refused.status).toBe(422);
      const reason = (refused.json.detail as { msg: string }[])[0]?.msg;
      await allowed.getByLabel("Allowed domains, one a line").fill("not_a_domain");
      await allowed.getByRole("button", { name: "Save the allowed domains" }).click();
      await expect.poll(() => allowed.getByRole("alert").textContent()).toBe(`domains.0: ${reason}`);
      expect((await api(rig.worker.origin, "GET", "/org/invitation-domains", { token: owner.token })).json.domains).toEqual([domain, "example.org"]);
      await allowed.getByLabel("Allowed domains, one a line").fill("");
      await allowed.getByRole("button", { name: "Save the allowed domains" }).click();
      await page.getByText("Invitations may go to any address.", { exact: true }).waitFor();
      expect((await api(rig.worker.origin, "GET", "/org/invitation-domains", { token: owner.token })).json.domains).toEqual([]);

      // Released after a confirmation.
      await domainCard.getByRole("button", { name: "Delete" }).click();
      await domainCard.getByText(`Release ${domain}?`).waitFor();
      await expectAccessible(page);
      await domainCard.getByRole("button", { name: "Yes, delete" }).click();
      await page.getByText("No domains yet.").waitFor();
      expect(await domainsOf(owner)).toEqual([]);
      expectClean(tab);
      await page.close();
    });

    it("lets a person at a suggest domain ask to join; the owner approves them on the Members page, declines another, and they sign in to it", async () => {
      const owner = await createOrganization(rig.worker.origin);
      const domain = await verifiedDomain(owner, { policy: "suggest" });
      // Two people sign up (through the API) and prove their addresses through the mailed links.
      const asker = { email: `fay-${unique()}@${domain}`, password: "Sign-up-1234" };
      const other = { email: `gus-${unique()}@${domain}`, password: "Sign-up-1234" };
      for (const who of [asker, other]) expect((await api(rig.worker.origin, "POST", "/auth/signup", { body: who })).status).toBe(201);
      const otherToken = new URLSearchParams(new URL(await linkMailedTo(other.email, /verify|confirm/i)).hash.slice(1)).get("token");
      expect((await api(rig.worker.origin, "POST", "/auth/verify-email/confirm", { body: { token: otherToken } })).status).toBe(200);

      // The asker proves the address in the browser, then signs in: an account in no organization lands on the welcome page.
      const askerTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
      const mine = askerTab.page;
      await proveAddress(mine, asker.email);
      await mine.getByRole("link", { name: "Open the console" }).click();
      await mine.getByRole("heading", { name: "Sign in" }).waitFor();
      await mine.getByLabel("E-mail").fill(asker.email);
      await mine.getByLabel("Password", { exact: true }).fill(asker.password);
      await mine.getByRole("button", { name: "Sign in" }).click();
      await mine.getByRole("heading", { name: "Join your organization" }).waitFor();
      expect(new URL(mine.url()).pathname).toBe("/console/welcome");
      const offer = card(mine, owner.organization);
      await offer.getByText("You may ask to join it").waitFor();
      await offer.getByRole("button", { name: "Ask to join" }).click();
      await offer.getByText("Requested:").waitFor();
      expect(await offer.getByRole("button").count()).toBe(0);
      expect((await suggestionsFor(asker)).suggestions).toMatchObject([{ organization_name: owner.organization, policy: "suggest", requested: true }]);
      expect((await requestsOf(owner)).map((request) => request.email)).toEqual([asker.email]);
      await expectAccessible(mine);
      // The other asks through the API.
      const otherLogin = await api(rig.worker.origin, "POST", "/admin/login", { body: other });
      const orgId = String(claimsOf(owner.token).org_id);
      expect((await api(rig.worker.origin, "POST", `/auth/suggestions/${orgId}/join`, { token: String(otherLogin.json.access_token) })).status).toBe(202);

      // The owner sees both on the Members page, approves the asker as an admin and declines the other.
      const ownerTab = await signedInPage(rig, owner, "/console/members");
      const { page } = ownerTab;
      const requests = page.getByRole("region", { name: "People asking to join" });
      const rowOf = (email: string) => requests.locator("tbody tr", { hasText: email });
      await rowOf(asker.email).waitFor();
      await rowOf(other.email).waitFor();
      expect(await rowOf(asker.email).locator("td:nth-child(2)").textContent()).toBe(domain);
      await expectAccessible(page);
      await screenshot(page, "join-requests");
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await fitsWidth(page)).toBe(true);
      await page.setViewportSize({ width: 1280, height: 800 });
      await rowOf(asker.email).getByLabel(`Role for ${asker.email}`).selectOption("admin");
      await rowOf(asker.email).getByRole("button", { name: "Approve" }).click();
      await expect.poll(() => rowOf(asker.email).count()).toBe(0);
      await page.locator("#main tbody tr", { hasText: asker.email }).first().waitFor();
      expect((await membersOf(owner)).find((member) => member.email === asker.email)?.role).toBe("admin");
      expect((await requestsOf(owner)).map((request) => request.email)).toEqual([other.email]);
      await rowOf(other.email).getByRole("button", { name: "Decline" }).click();
      await rowOf(other.email).getByRole("button", { name: "Yes, decline" }).click();
      await expect.poll(() => page.getByRole("heading", { name: "Asking to join" }).count()).toBe(0);
      expect(await requestsOf(owner)).toEqual([]);
      expect((await membersOf(owner)).some((member) => member.email === other.email)).toBe(false);
      expect((await suggestionsFor(other)).suggestions).toMatchObject([{ requested: false }]);

      // The asker, let in, signs in again from the welcome page and opens the organization as an admin.
      await mine.reload();
      await mine.getByText("No organization uses your domain").waitFor();
      await mine.getByRole("button", { name: "Sign in again" }).click();
      await mine.getByRole("heading", { name: "Sign in" }).waitFor();
      await signIn(mine, asker);
      await expect.poll(() => mine.locator(".who bdi").first().textContent()).toBe(owner.organization);
      expect(await mine.locator(".role").textContent()).toBe("admin");
      await mine.waitForURL(`${rig.worker.origin}/console`);
      expectClean(ownerTab, askerTab);
      for (const tab of [ownerTab, askerTab]) await tab.page.close();
    });

    it("mails the verification link again from the welcome page; a person at a domain nobody verified creates an organization of their own there and opens it as its owner", async () => {
      const domain = freshDomain();
      const person = { email: `hal-${unique()}@${domain}`, password: "Sign-up-1234" };
      const personTab = await openConsole(rig.browser.context, rig.worker.origin, "/console/sign-in");
      const mine = personTab.page;
      await signUpOnPage(mine, person);
      await mine.getByText("Verify your address first").waitFor();
      await linkMailedTo(person.email, /verify|confirm/i);
      expect(await verificationLinksTo(person.email)).toHaveLength(1);

      // The link mailed again: a second message reaches Mailpit, and the page says it is on its way.
      await mine.getByRole("button", { name: "Mail the link again" }).click();
      await mine.getByRole("status").filter({ hasText: "A new link is on its way" }).waitFor();
      await expect.poll(async () => (await verificationLinksTo(person.email)).length, { timeout: 20_000 }).toBe(2);
      const [newest, earlier] = await verificationLinksTo(person.email);
      expect(newest).not.toBe(earlier);
      expect(await suggestionsFor(person)).toMatchObject({ email_verified: false, suggestions: [] });
      await expectAccessible(mine);
      await screenshot(mine, "welcome-mail-again");
      await mine.setViewportSize({ width: 390, height: 844 });
      expect(await fitsWidth(mine)).toBe(true);
      await mine.setViewportSize({ width: 1280, height: 800 });

      // The earlier link no longer verifies; the newest does.
      const earlierTab = await followInNewTab(String(earlier));
      await expect.poll(() => earlierTab.page.getByRole("alert").textContent()).toBe(ERRORS.LINK_INVALID.message);
      expect(await suggestionsFor(person)).toMatchObject({ email_verified: false });
      const newestTab = await followInNewTab(String(newest));
      await newestTab.page.getByText("Your address is verified").waitFor();
      expect(await suggestionsFor(person)).toMatchObject({ email_verified: true, suggestions: [] });

      // The welcome page, still asking for the link, mails none once the address is verified: it checks again instead.
      await mine.getByRole("button", { name: "Mail the link again" }).click();
      await mine.getByText("No organization uses your domain").waitFor();
      expect(await mine.getByText(domain, { exact: true }).count()).toBe(1);
      expect(await verificationLinksTo(person.email)).toHaveLength(2);

      // The person creates an organization of their own from the welcome page: its name, and the account's password.
      await mine.getByRole("link", { name: "create an organization" }).click();
      await mine.getByRole("heading", { name: "Create an organization" }).waitFor();
      const form = mine.getByRole("form", { name: "Create an organization" });
      expect(await form.getByLabel("Your e-mail").count()).toBe(0);
      await mine.locator("#main bdi", { hasText: person.email }).waitFor();
      await expectAccessible(mine);
      await screenshot(mine, "create-as-account");
      await mine.setViewportSize({ width: 390, height: 844 });
      expect(await fitsWidth(mine)).toBe(true);
      await mine.setViewportSize({ width: 1280, height: 800 });
      const organization = `Own Org ${unique()}`;
      await form.getByLabel("Organization name").fill(organization);

      // A mistyped password is refused before anything is created: the tab stays the account's.
      await form.getByLabel("Your password").fill("not-the-password");
      await form.getByRole("button", { name: "Create" }).click();
      await expect.poll(() => form.getByRole("alert").textContent()).toBe(ERRORS.INVALID_CREDENTIALS.message);
      expect((await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(organization)}`)).status).toBe(404);
      expect(new URL(mine.url()).pathname).toBe("/console/create");

      // The right one: created, the tab signed in to it, on its overview, as its owner.
      await form.getByLabel("Your password").fill(person.password);
      await form.getByRole("button", { name: "Create" }).click();
      await mine.waitForURL(`${rig.worker.origin}/console`);
      await expect.poll(() => mine.locator(".who bdi").first().textContent()).toBe(organization);
      expect(await mine.locator(".role").textContent()).toBe("owner");
      await mine.getByRole("navigation", { name: "Sections" }).waitFor();
      const stored = await mine.evaluate(() => JSON.parse(sessionStorage.getItem("oms.console.session") ?? "{}") as { token?: string });
      expect(claimsOf(String(stored.token))).toMatchObject({ org_name: organization, role: "owner" });
      expect((await api(rig.worker.origin, "GET", `/org/get?organization_name=${encodeURIComponent(organization)}`)).status).toBe(200);
      const login = await api(rig.worker.origin, "POST", "/admin/login", { body: person });
      expect(login.status).toBe(200);
      const token = String(login.json.access_token);
      expect(claimsOf(token)).toMatchObject({ org_name: organization, role: "owner", email_verified: true });
      expect(await membersOf({ ...person, organization, token })).toMatchObject([{ email: person.email, role: "owner" }]);
      await expectAccessible(mine);
      expectClean(personTab, earlierTab, newestTab);
      for (const tab of [personTab, earlierTab, newestTab]) await tab.page.close();
    });
  },
);

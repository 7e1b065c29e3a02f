import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { browserAvailable } from "./chromium";
import {
  api,
  type ConsoleRig,
  createOrganization,
  expectAccessible,
  expectClean,
  fitsWidth,
  type Owner,
  screenshot,
  signedInPage,
  startRig,
  unique,
} from "./console-kit";

let rig: ConsoleRig;

interface Person {
  email: string;
  password: string;
  userId: string;
}

/** A member of the owner's organization, invited and accepted through the API (what the test is not about). */
const join = async (owner: Owner, label: string): Promise<Person> => {
  const origin = rig.worker.origin;
  const email = `${label}-${unique()}@example.com`;
  const invited = await api(origin, "POST", "/org/invitations", { token: owner.token, body: { email, role: "member" } });
  expect(invited.status, JSON.stringify(invited.json)).toBe(201);
  const accepted = await api(origin, "POST", "/invitations/accept", { body: { token: invited.json.token, password: "Test1234!" } });
  expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
  const members = (await api(origin, "GET", "/org/members", { token: owner.token })).json.members as { email: string; user_id: string }[];
  const userId = members.find((member) => member.email === email)?.user_id;
  expect(userId).toBeDefined();
  return { email, password: "Test1234!", userId: String(userId) };
};

const rolesOf = async (owner: Owner) =>
  (await api(rig.worker.origin, "GET", "/org/roles", { token: owner.token })).json.roles as { name: string; permissions: string[]; members: number }[];
const teamsOf = async (owner: Owner) =>
  (await api(rig.worker.origin, "GET", "/org/teams", { token: owner.token })).json.teams as {
    id: string;
    name: string;
    members: { email: string; role: string }[];
  }[];
const memberRolesOf = async (owner: Owner, email: string) =>
  ((await api(rig.worker.origin, "GET", "/org/members", { token: owner.token })).json.members as { email: string; roles: string[] }[]).find(
    (member) => member.email === email,
  )?.roles;

/** The table row whose first cell names `text` exactly (not the editor row that follows it). */
const rowOf = (page: Page, text: string) =>
  page.locator("#main tbody tr", { has: page.locator("td:first-child bdi", { hasText: new RegExp(`^${text.replace(/[.+]/g, "\\$&")}$`) }) });
const teamCard = (page: Page, name: string) => page.getByRole("region", { name, exact: true });

describe.runIf(browserAvailable())("the console's roles and teams views", () => {
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("defines a role from the page, shows it held, refuses what the service refuses, and deletes a held role once a replacement is named", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const member = await join(owner, "billing");
    const tab = await signedInPage(rig, owner, "/console/roles");
    const { page } = tab;
    const define = page.getByRole("form", { name: "Define a role" });

    // A name the service refuses: its words under the field.
    await define.getByLabel("Name", { exact: true }).fill("Bad Name");
    await define.getByLabel("records:read").check();
    await define.getByRole("button", { name: "Define the role" }).click();
    const refused = await api(rig.worker.origin, "POST", "/org/roles", { token: owner.token, body: { name: "Bad Name", permissions: ["records:read"] } });
    expect(refused.status).toBe(422);
    const reason = (refused.json.detail as { loc: string[]; msg: string }[]).find((issue) => issue.loc.at(-1) === "name")?.msg;
    await expect.poll(() => define.locator(".field-error").textContent()).toBe(reason);
    expect(await define.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    await define.getByLabel("Name", { exact: true }).fill("billing");
    await define.getByLabel("audit:read").check();
    await define.getByRole("button", { name: "Define the role" }).click();
    const row = rowOf(page, "billing");
    await row.waitFor();
    expect(await row.locator("td:nth-child(2) li").allTextContents()).toEqual(["records:read", "audit:read"]);
    expect((await rolesOf(owner)).find((role) => role.name === "billing")?.permissions.sort()).toEqual(["audit:read", "records:read"]);
    // The form is emptied after a definition; defining the same name again is the service's 409.
    expect(await define.getByLabel("Name", { exact: true }).inputValue()).toBe("");
    await define.getByLabel("Name", { exact: true }).fill("billing");
    await define.getByLabel("records:read").check();
    await define.getByRole("button", { name: "Define the role" }).click();
    await expect.poll(() => define.getByRole("alert").textContent()).toBe(ERRORS.ROLE_EXISTS.message);
    // Built-in roles are listed, with no way to change them.
    expect(await rowOf(page, "owner").getByRole("button").count()).toBe(0);

    // Given to the member (through the API): the row counts them, the members view names it.
    const given = await api(rig.worker.origin, "PATCH", `/org/members/${member.userId}`, { token: owner.token, body: { roles: ["member", "billing"] } });
    expect(given.status, JSON.stringify(given.json)).toBe(200);
    await page.reload();
    await expect.poll(() => rowOf(page, "billing").locator("td:nth-child(3)").textContent()).toBe("1");
    await page.getByRole("link", { name: "Members" }).click();
    await expect.poll(() => rowOf(page, member.email).textContent()).toContain("Also: billing");
    // A change of the built-in role from the picker keeps the custom one.
    await rowOf(page, member.email)
      .getByLabel(/Role of/)
      .selectOption("admin");
    await expect.poll(() => memberRolesOf(owner, member.email)).toEqual(["admin", "billing"]);
    await expect.poll(() => rowOf(page, member.email).textContent()).toContain("Also: billing");
    await page.getByRole("link", { name: "Roles" }).click();

    // Its permissions edited in place.
    await row.getByRole("button", { name: "Edit permissions" }).click();
    const edit = page.getByRole("form", { name: "Permissions of billing" });
    await edit.getByLabel("records:write").check();
    await edit.getByLabel("audit:read").uncheck();
    await expectAccessible(page);
    await edit.getByRole("button", { name: "Save the permissions" }).click();
    await expect.poll(() => row.locator("td:nth-child(2) li").allTextContents()).toEqual(["records:read", "records:write"]);
    expect(await edit.count()).toBe(0);
    expect((await rolesOf(owner)).find((role) => role.name === "billing")?.permissions.sort()).toEqual(["records:read", "records:write"]);

    // Deleting a held role: the service's 409 said in the row, and a replacement picked there.
    expect((await api(rig.worker.origin, "POST", "/org/roles", { token: owner.token, body: { name: "support", permissions: ["records:read"] } })).status).toBe(
      201,
    );
    await page.reload();
    await row.getByRole("button", { name: "Delete" }).click();
    await row.getByRole("button", { name: "Yes, delete" }).click();
    const replace = page.getByRole("form", { name: "Replace billing and delete it" });
    await replace.waitFor();
    expect(await page.getByRole("alert").allTextContents()).toEqual([ERRORS.ROLE_IN_USE.message]);
    expect((await rolesOf(owner)).some((role) => role.name === "billing")).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "roles");
    await replace.getByLabel("Give its holders instead of billing").selectOption("support");
    await replace.getByRole("button", { name: "Replace and delete" }).click();
    await expect.poll(() => rowOf(page, "billing").count()).toBe(0);
    expect((await rolesOf(owner)).map((role) => role.name)).toEqual(["owner", "admin", "member", "support"]);
    expect(await memberRolesOf(owner, member.email)).toEqual(["admin", "support"]);

    // At 390 px nothing scrolls sideways but the table's own frame.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    expectClean(tab);
    await page.close();
  });

  it("refuses, in the service's words, a role giving what its definer does not hold", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const definer = await join(owner, "definer");
    expect(
      (await api(rig.worker.origin, "POST", "/org/roles", { token: owner.token, body: { name: "roles", permissions: ["role:manage", "member:read"] } })).status,
    ).toBe(201);
    const given = await api(rig.worker.origin, "PATCH", `/org/members/${definer.userId}`, { token: owner.token, body: { roles: ["member", "roles"] } });
    expect(given.status, JSON.stringify(given.json)).toBe(200);
    const tab = await signedInPage(rig, definer, "/console/roles");
    const define = tab.page.getByRole("form", { name: "Define a role" });
    await define.getByLabel("Name", { exact: true }).fill("auditor");
    await define.getByLabel("audit:read").check();
    await define.getByRole("button", { name: "Define the role" }).click();
    await expect.poll(() => define.getByRole("alert").textContent()).toBe(ERRORS.PERMISSION_DENIED.message);
    expect((await rolesOf(owner)).some((role) => role.name === "auditor")).toBe(false);
    // What they hold they may give.
    await define.getByLabel("audit:read").uncheck();
    await define.getByLabel("records:read").check();
    await define.getByRole("button", { name: "Define the role" }).click();
    await rowOf(tab.page, "auditor").waitFor();
    expect((await rolesOf(owner)).find((role) => role.name === "auditor")?.permissions).toEqual(["records:read"]);
    expectClean(tab);
    await tab.page.close();
  });

  it("creates a team and fills it; its lead runs its plain members without team:manage; a plain member only reads", async () => {
    const owner = await createOrganization(rig.worker.origin);
    const lead = await join(owner, "lead");
    const plain = await join(owner, "plain");
    const extra = await join(owner, "extra");
    const ownerTab = await signedInPage(rig, owner, "/console/teams");
    const { page } = ownerTab;
    await page.getByText("No teams yet.").waitFor();
    const create = page.getByRole("form", { name: "Create a team" });
    await create.getByLabel("Team name").fill("Finance");
    await create.getByRole("button", { name: "Create the team" }).click();
    const card = teamCard(page, "Finance");
    await card.waitFor();

    await card.getByLabel("Member to add to Finance").selectOption({ label: lead.email });
    await card.getByLabel("Role in Finance").selectOption("lead");
    await card.getByRole("button", { name: "Add to the team" }).click();
    await rowOf(page, lead.email).waitFor();
    await card.getByLabel("Member to add to Finance").selectOption({ label: plain.email });
    await card.getByRole("button", { name: "Add to the team" }).click();
    await rowOf(page, plain.email).waitFor();
    expect(await rowOf(page, lead.email).locator("td:nth-child(2)").textContent()).toBe("lead");
    expect(await rowOf(page, plain.email).locator("td:nth-child(2)").textContent()).toBe("member");
    const [finance] = await teamsOf(owner);
    expect(finance?.name).toBe("Finance");
    expect(new Map(finance?.members.map((m) => [m.email, m.role]))).toEqual(
      new Map([
        [lead.email, "lead"],
        [plain.email, "member"],
      ]),
    );
    // Those already in the team are not offered again.
    expect(await card.getByLabel("Member to add to Finance").locator("option").allTextContents()).toEqual(
      expect.not.arrayContaining([lead.email, plain.email]),
    );
    await expectAccessible(page);
    await screenshot(page, "teams");
    // A second team of the same name, whatever its case, is the service's 409.
    await create.getByLabel("Team name").fill("finance");
    await create.getByRole("button", { name: "Create the team" }).click();
    await expect.poll(() => create.getByRole("alert").textContent()).toBe(ERRORS.TEAM_EXISTS.message);
    // The members view names each member's teams.
    await page.getByRole("link", { name: "Members" }).click();
    await expect.poll(() => rowOf(page, lead.email).locator("td:nth-child(3)").textContent()).toBe("Finance (lead)");
    expect(await rowOf(page, plain.email).locator("td:nth-child(3)").textContent()).toBe("Finance");
    expect(await rowOf(page, extra.email).locator("td:nth-child(3)").textContent()).toBe("–");
    await expectAccessible(page);

    // The lead: no create, rename or delete; their own row untouchable, the plain member's removable.
    const leadTab = await signedInPage(rig, lead, "/console/teams");
    const leads = teamCard(leadTab.page, "Finance");
    await leads.waitFor();
    expect(await leadTab.page.getByRole("form", { name: "Create a team" }).count()).toBe(0);
    expect(await leads.getByRole("button", { name: "Delete the team" }).count()).toBe(0);
    expect(await leads.getByRole("button", { name: "Rename" }).count()).toBe(0);
    expect(await leads.getByLabel("Role in Finance").count()).toBe(0);
    expect(await rowOf(leadTab.page, lead.email).getByRole("button").count()).toBe(0);
    await expectAccessible(leadTab.page);
    await rowOf(leadTab.page, plain.email).getByRole("button", { name: "Remove" }).click();
    await rowOf(leadTab.page, plain.email).getByRole("button", { name: "Yes, remove" }).click();
    await expect.poll(() => rowOf(leadTab.page, plain.email).count()).toBe(0);
    expect((await teamsOf(owner))[0]?.members.map((m) => m.email)).toEqual([lead.email]);
    await leads.getByLabel("Member to add to Finance").selectOption({ label: extra.email });
    await leads.getByRole("button", { name: "Add to the team" }).click();
    await rowOf(leadTab.page, extra.email).waitFor();
    expect(new Map((await teamsOf(owner))[0]?.members.map((m) => [m.email, m.role]))).toEqual(
      new Map([
        [lead.email, "lead"],
        [extra.email, "member"],
      ]),
    );
    await leadTab.page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(leadTab.page)).toBe(true);

    // A plain member of the team reads it, and may change nothing.
    const plainTab = await signedInPage(rig, extra, "/console/teams");
    const seen = teamCard(plainTab.page, "Finance");
    await rowOf(plainTab.page, lead.email).waitFor();
    expect(await seen.getByRole("button").count()).toBe(0);
    expect(await seen.getByRole("combobox").count()).toBe(0);

    // The owner renames the team and deletes it; its members stay in the organization.
    await page.getByRole("link", { name: "Teams" }).click();
    await card.getByRole("button", { name: "Rename" }).click();
    await card.getByLabel("New name of Finance").fill("Finance and billing");
    await card.getByRole("button", { name: "Rename", exact: true }).click();
    const renamed = teamCard(page, "Finance and billing");
    await renamed.waitFor();
    expect((await teamsOf(owner))[0]?.name).toBe("Finance and billing");
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await renamed.getByRole("button", { name: "Delete the team" }).click();
    await renamed.getByRole("button", { name: "Yes, delete the team" }).click();
    await page.getByText("No teams yet.").waitFor();
    expect(await teamsOf(owner)).toEqual([]);
    expect(await memberRolesOf(owner, lead.email)).toEqual(["member"]);
    expectClean(ownerTab, leadTab, plainTab);
    for (const tab of [ownerTab, leadTab, plainTab]) await tab.page.close();
  });
});

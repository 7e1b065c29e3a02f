// The platform's role templates: an operator defines custom roles once, and every organization
// created from then on starts with them as its own, to use, change or delete like any other.
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import {
  bearer,
  call,
  createOrg,
  join,
  loginToken,
  operator,
  PLATFORM_READ_KEY,
  PLATFORM_WRITE_KEY,
  patchJson,
  putJson,
  uniqueName,
  useOwnDatabase,
} from "../helpers";

// Templates are the platform's: this file's database is its own, so no other file's organizations start with them.
useOwnDatabase("role_templates");

interface Templates {
  templates: { name: string; permissions: string[]; description: string | null }[];
  updated_at: string | null;
}

const readTemplates = async () => {
  const res = await call("/platform/role-templates", { headers: operator(PLATFORM_READ_KEY) });
  expect(res.status).toBe(200);
  return (await res.json()) as Templates;
};

const setTemplates = (templates: unknown, key = PLATFORM_WRITE_KEY) => putJson("/platform/role-templates", { templates }, operator(key));

const customRoles = async (token: string) => {
  const res = await call("/org/roles", { headers: bearer(token) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { roles: { name: string; permissions: string[]; built_in: boolean; description: string | null }[] }).roles
    .filter((role) => !role.built_in)
    .map(({ name, permissions, description }) => ({ name, permissions, description }));
};

const BILLING = { name: "billing", permissions: ["records:read", "audit:read"], description: "Reads invoices and the event feed" };
const SUPPORT = { name: "support", permissions: ["member:read"] };

describe("the platform's role templates", () => {
  it("every organization created after they are set starts with them as its own roles", async () => {
    const before = await createOrg(uniqueName("Before"));
    expect(await readTemplates()).toEqual({ templates: [], updated_at: null });

    const set = await setTemplates([BILLING, SUPPORT]);
    expect(set.status, await set.clone().text()).toBe(200);
    const templates = [BILLING, { ...SUPPORT, description: null }];
    expect(await readTemplates()).toEqual({ templates, updated_at: expect.any(String) });

    const org = await createOrg(uniqueName("After"));
    const owner = await loginToken(org.email, org.password);
    expect(await customRoles(owner)).toEqual(templates);
    // One that existed before keeps what it had: none.
    expect(await customRoles(await loginToken(before.email, before.password))).toEqual([]);

    // The template is the organization's own role: given, it works; changed, it changes there alone.
    const member = await join(owner);
    expect((await patchJson(`/org/members/${member.userId}`, { roles: ["billing"] }, bearer(owner))).status).toBe(200);
    const holder = await loginToken(member.email, member.password);
    expect((await call("/org/events", { headers: bearer(holder) })).status).toBe(200);
    expect((await call("/org/webhooks", { headers: bearer(holder) })).status).toBe(403);
    expect((await patchJson("/org/roles/billing", { permissions: ["webhook:manage"] }, bearer(owner))).status).toBe(200);
    expect((await call("/org/webhooks", { headers: bearer(holder) })).status).toBe(200);
    expect((await readTemplates()).templates).toEqual(templates);

    // Emptied, the next organization starts with none.
    expect((await setTemplates([])).status).toBe(200);
    const later = await createOrg(uniqueName("Later"));
    expect(await customRoles(await loginToken(later.email, later.password))).toEqual([]);
  });

  it("refuses what a custom role may never be, and a key that may only read, changing nothing", async () => {
    expect((await setTemplates([BILLING])).status).toBe(200);
    const before = await readTemplates();
    for (const templates of [
      [{ name: "admin", permissions: ["records:read"] }],
      [BILLING, BILLING],
      [{ name: "boss", permissions: ["organization:delete"] }],
      [{ name: "Bad Name", permissions: ["records:read"] }],
      [{ name: "empty", permissions: [] }],
      [{ ...BILLING, extra: true }],
      Array.from({ length: 51 }, (_, i) => ({ name: `role${i}`, permissions: ["records:read"] })),
      "billing",
    ]) {
      const res = await setTemplates(templates);
      expect(res.status, JSON.stringify(templates).slice(0, 80)).toBe(422);
    }
    const readOnly = await setTemplates([SUPPORT], PLATFORM_READ_KEY);
    expect(readOnly.status).toBe(403);
    expect(await readOnly.json()).toEqual({ detail: ERRORS.PLATFORM_READ_ONLY.message });
    expect((await putJson("/platform/role-templates", { templates: [SUPPORT] })).status).toBe(404);
    expect(await readTemplates()).toEqual(before);
    expect((await setTemplates([])).status).toBe(200);
  });
});

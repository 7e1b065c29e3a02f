// An organization's own roles: defined with a name and permissions, given to members beside or
// instead of the built-in ones, followed by every holder's next request when they change, and never
// left held by anyone once deleted, whatever runs beside the change.
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { CUSTOM_ROLE_PERMISSIONS, type Permission } from "../../src/domain/kernel/roles";
import { ROUTES } from "../../src/http/routes";
import { bearer, call, createOrg, env, join, loginToken, patchJson, postJson, roundTrips, storeClient, uniqueName, useOwnDatabase } from "../helpers";
import { newTenant, SUCCESS, send } from "./surface/cases";

// The permission matrix makes an organization per case: a database of this file's own.
useOwnDatabase("roles");

const organizations = () => storeClient(env.DATABASE ?? "master_db").collection<OrganizationDoc>(ORGANIZATIONS);
const del = (path: string, token: string) => call(path, { method: "DELETE", headers: bearer(token) });
const detail = async (res: Response) => ((await res.json()) as { detail: unknown }).detail;
const claimsOf = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;

const defineRole = async (token: string, name: string, permissions: readonly Permission[]) => {
  const res = await postJson("/org/roles", { name, permissions }, bearer(token));
  if (res.status !== 201) throw new Error(`role failed: ${res.status} ${await res.text()}`);
  return res.json();
};

const giveRoles = async (token: string, userId: string, roles: string[]) => {
  const res = await patchJson(`/org/members/${userId}`, { roles }, bearer(token));
  if (res.status !== 200) throw new Error(`roles failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { role: string; roles: string[] };
};

/** An organization with its owner's token and a member who holds exactly `roles`, signed in again after being given them. */
const withHolder = async (roles: string[], definitions: Record<string, readonly Permission[]> = {}) => {
  const org = await createOrg(uniqueName("Roles"));
  const owner = await loginToken(org.email, org.password);
  for (const [name, permissions] of Object.entries(definitions)) await defineRole(owner, name, permissions);
  const member = await join(owner);
  await giveRoles(owner, member.userId, roles);
  return { org, owner, member: { ...member, token: await loginToken(member.email, member.password) } };
};

const stored = async (name: string) => (await organizations().findOne({ organization_name: name })) as OrganizationDoc;

/** No member holds a role the organization does not define, and every member is whole (never a record a race left half-written). */
const expectConsistent = (org: OrganizationDoc) => {
  const defined = new Set(["owner", "admin", "member", ...Object.keys(org.custom_roles ?? {})]);
  let owners = 0;
  for (const member of Object.values(org.members)) {
    expect(member.email, JSON.stringify(member)).toEqual(expect.any(String));
    for (const role of member.roles ?? [member.role]) expect(defined.has(role), `${member.email} holds ${role}`).toBe(true);
    if ((member.roles ?? [member.role]).includes("owner")) owners++;
    const builtIn = (member.roles ?? [member.role]).filter((role) => role === "owner" || role === "admin" || role === "member");
    expect(builtIn.length, `${member.email} holds ${builtIn}`).toBeLessThanOrEqual(1);
  }
  expect(org.owner_count).toBe(owners);
  expect(owners).toBeGreaterThan(0);
  for (const [permission, givers] of Object.entries(org.role_grants ?? {}))
    for (const giver of givers ?? []) expect(org.custom_roles?.[giver]?.permissions).toContain(permission);
};

describe("a billing role: a member can do exactly what it gives", () => {
  it("two permissions, given alone: those two routes answer, every other permission is refused, and the token names the role", async () => {
    const { org, owner, member } = await withHolder(["billing"], { billing: ["records:read", "audit:read"] });
    expect(claimsOf(member.token)).toMatchObject({ role: "billing", roles: ["billing"] });

    const records = await call("/org/records?limit=10", { headers: bearer(member.token) });
    expect(records.status).toBe(200);
    expect((await call("/org/events?limit=10", { headers: bearer(member.token) })).status).toBe(200);
    for (const [path, init] of [
      ["/org/records", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }],
      ["/org/members", {}],
      ["/org/webhooks", {}],
      ["/org/api-keys", {}],
      ["/org/roles", {}],
    ] as const) {
      const res = await call(path, { ...init, headers: { ...("headers" in init ? init.headers : {}), ...bearer(member.token) } });
      expect(res.status, path).toBe(403);
      expect(await detail(res)).toBe(ERRORS.PERMISSION_DENIED.message);
    }

    // The permission a custom role gives is checked by the request's own read: no round trip of its own.
    const byOwner = await call("/org/records?limit=10", { headers: bearer(owner) });
    expect(roundTrips(records)).toBe(roundTrips(byOwner));

    const listed = (await (await call("/org/roles", { headers: bearer(owner) })).json()) as { roles: { name: string; members: number; built_in: boolean }[] };
    expect(listed.roles.map((role) => [role.name, role.built_in, role.members])).toEqual([
      ["owner", true, 1],
      ["admin", true, 0],
      ["member", true, 0],
      ["billing", false, 1],
    ]);
    const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as {
      members: { user_id: string; role: string; roles: string[] }[];
    };
    expect(members.members.find((m) => m.user_id === member.userId)).toMatchObject({ role: "billing", roles: ["billing"] });
    expectConsistent(await stored(org.name));
  });

  it("a change to the role reaches its holder's next request, with the token they have", async () => {
    const { owner, member } = await withHolder(["member", "billing"], { billing: ["audit:read"] });
    expect(claimsOf(member.token)).toMatchObject({ role: "member", roles: ["member", "billing"] });
    expect((await call("/org/events", { headers: bearer(member.token) })).status).toBe(200);

    expect((await patchJson("/org/roles/billing", { permissions: ["webhook:manage"] }, bearer(owner))).status).toBe(200);
    const refused = await call("/org/events", { headers: bearer(member.token) });
    expect(refused.status).toBe(403);
    expect(await detail(refused)).toBe(ERRORS.PERMISSION_DENIED.message);
    expect((await call("/org/webhooks", { headers: bearer(member.token) })).status).toBe(200);
    // The built-in role's own permissions never depended on the custom one.
    expect((await call("/org/records", { headers: bearer(member.token) })).status).toBe(200);

    expect((await del("/org/roles/billing?replace_with=member", owner)).status).toBe(200);
    // Their roles changed: the token they had stops, as after any change of a member's roles.
    expect((await call("/org/records", { headers: bearer(member.token) })).status).toBe(401);
    expect(claimsOf(await loginToken(member.email, member.password))).toMatchObject({ role: "member" });
    expect(claimsOf(await loginToken(member.email, member.password)).roles).toBeUndefined();
  });
});

// On the embedded store only, as the sweep's provocations are: the matrix checks where the HTTP
// layer asks for a permission, the same code on either store; the guard it relies on
// (`role_grants` in the request's own filter) runs through the gateway in every other test here.
describe.skipIf(env.DATA_API_URL)("custom roles × routes: a role with one permission can do exactly that", () => {
  const protectedRoutes = ROUTES.filter((route) => !route.internal && route.auth === "required" && route.permission !== undefined);
  const cases = protectedRoutes.flatMap((route) => {
    const name = `${route.method.toUpperCase()} ${route.path}`;
    const permission = route.permission as Permission;
    const given = (CUSTOM_ROLE_PERMISSIONS as readonly Permission[]).includes(permission);
    return [...(given ? [[name, permission, "with"] as const] : []), [name, permission, "without"] as const];
  });

  /** What a route hands on, beside its own permission: a key's scope is one its creator holds. */
  const handsOn: Record<string, Permission[]> = {
    "POST /org/api-keys": ["records:read"],
    // An invitation as a member hands on what a member may do, and so does letting a requester in as one.
    "POST /org/invitations": ["member:read", "records:read", "records:write"],
    "POST /org/join-requests/{user_id}/approve": ["member:read", "records:read", "records:write"],
  };

  it.each(cases)("%s by a role %s %s", async (name, permission, mode) => {
    const tenant = await newTenant(name);
    // The role routes' own role gives what their actor holds, so that giving and changing it is theirs to do.
    if (name.includes("/org/roles/")) expect((await patchJson("/org/roles/sweep", { permissions: ["role:manage"] }, bearer(tenant.token))).status).toBe(200);
    const permissions = mode === "with" ? [permission, ...(handsOn[name] ?? [])] : CUSTOM_ROLE_PERMISSIONS.filter((each) => each !== permission);
    await defineRole(tenant.token, "actor", permissions);
    const actor = await join(tenant.token);
    await giveRoles(tenant.token, actor.userId, ["actor"]);
    const token = await loginToken(actor.email, actor.password);

    const ask = SUCCESS[name];
    if (!ask) throw new Error(`no request for ${name}`);
    const request = ask({ ...tenant, password: actor.password });
    const body =
      name === "POST /org/roles"
        ? JSON.stringify({ name: "auditor", permissions: ["role:manage"] })
        : name === "POST /org/api-keys"
          ? JSON.stringify({ name: "job", scopes: ["records:read"] })
          : name === "PATCH /org/members/{user_id}"
            ? JSON.stringify({ roles: ["member"] })
            : name === "PATCH /org/roles/{name}"
              ? JSON.stringify({ description: "Manages roles" })
              : request.body;
    const res = await send({ ...request, body, headers: { ...request.headers, ...bearer(token) } });
    if (mode === "with") {
      expect(res.status, `${name}: ${await res.clone().text()}`).toBeLessThan(400);
    } else {
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(403);
      expect(await detail(res)).toBe(ERRORS.PERMISSION_DENIED.message);
    }
  });

  it("a rename by password follows a custom role too", async () => {
    const { org, member } = await withHolder(["renamer"], { renamer: ["organization:update"] });
    const renamed = uniqueName("Renamed");
    const res = await call("/org/update", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ organization_name: org.name, new_organization_name: renamed, email: member.email, password: member.password }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});

describe("defining roles", () => {
  it("refuses what a custom role may never be, with a clear 4xx, and changes nothing", async () => {
    const org = await createOrg(uniqueName("Roles"));
    const owner = await loginToken(org.email, org.password);
    const before = await stored(org.name);
    for (const [body, status] of [
      [{ name: "Billing", permissions: ["records:read"] }, 422],
      [{ name: "x".repeat(33), permissions: ["records:read"] }, 422],
      [{ name: "ok", permissions: ["organization:delete"] }, 422],
      [{ name: "ok", permissions: ["member:delete"] }, 422],
      [{ name: "ok", permissions: [] }, 422],
      [{ name: "ok", permissions: ["records:read"], extra: 1 }, 422],
      [{ name: "admin", permissions: ["records:read"] }, 409],
    ] as const) {
      const res = await postJson("/org/roles", body, bearer(owner));
      expect(res.status, JSON.stringify(body)).toBe(status);
    }
    expect((await patchJson("/org/roles/admin", { permissions: ["records:read"] }, bearer(owner))).status).toBe(403);
    expect((await del("/org/roles/owner", owner)).status).toBe(403);
    expect((await del("/org/roles/ghost", owner)).status).toBe(404);
    expect((await patchJson("/org/roles/ghost", { description: "x" }, bearer(owner))).status).toBe(404);
    const after = await stored(org.name);
    expect(after.custom_roles).toEqual(before.custom_roles);
    expect(after.roles_rev).toEqual(before.roles_rev);
  });

  it("no one hands out more than they hold: a role manager without a permission can neither give it to a role nor make an admin", async () => {
    const { org, owner, member } = await withHolder(["people"], { people: ["role:manage", "member:update", "member:read", "records:read"] });
    const other = await join(owner);
    const headers = bearer(member.token);
    expect((await postJson("/org/roles", { name: "hooks", permissions: ["webhook:manage"] }, headers)).status).toBe(403);
    expect((await postJson("/org/roles", { name: "reader", permissions: ["records:read"] }, headers)).status).toBe(201);
    expect((await patchJson(`/org/members/${other.userId}`, { roles: ["reader"] }, headers)).status).toBe(200);
    expect((await patchJson(`/org/members/${other.userId}`, { role: "admin" }, headers)).status).toBe(403);
    expect((await patchJson("/org/roles/reader", { permissions: ["records:read", "api_key:manage"] }, headers)).status).toBe(403);
    // Nor acts on someone who holds more: an admin's roles stay an admin's (or an owner's) to change.
    const admin = await join(owner, "admin");
    expect((await patchJson(`/org/members/${admin.userId}`, { roles: ["reader"] }, headers)).status).toBe(403);
    expect((await del(`/org/members/${admin.userId}`, member.token)).status).toBe(403);
    expect((await patchJson(`/org/members/${other.userId}`, { roles: ["ghost"] }, headers)).status).toBe(422);
    expectConsistent(await stored(org.name));
  });

  it("a held role goes only with a replacement, which its holders get in the same change; the feed tells each step", async () => {
    const { org, owner, member } = await withHolder(["member", "billing"], { billing: ["audit:read"] });
    const held = await del("/org/roles/billing", owner);
    expect(held.status).toBe(409);
    expect(await detail(held)).toBe(ERRORS.ROLE_IN_USE.message);
    expect((await del("/org/roles/billing?replace_with=ghost", owner)).status).toBe(422);
    expect((await postJson("/org/roles", { name: "finance", permissions: ["audit:read", "records:read"] }, bearer(owner))).status).toBe(201);
    expect((await del("/org/roles/billing?replace_with=finance", owner)).status).toBe(200);
    const doc = await stored(org.name);
    expect(doc.members[member.userId]).toMatchObject({ role: "member", roles: ["member", "finance"] });
    expect(doc.custom_roles?.billing).toBeUndefined();
    expectConsistent(doc);

    await new Promise((resolve) => setTimeout(resolve, 100));
    const feed = (await (await call("/org/events?limit=50", { headers: bearer(owner) })).json()) as {
      events: { type: string; data: Record<string, unknown> }[];
    };
    const types = feed.events.map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(["role.created", "role.deleted", "member.role_changed"]));
    expect(feed.events.find((event) => event.type === "role.deleted")?.data).toEqual({ name: "billing", replaced_by: "finance", user_ids: [member.userId] });
    expect(feed.events.find((event) => event.type === "member.role_changed")?.data).toMatchObject({ roles: ["member", "billing"] });
  });

  it("a built-in replacement goes to holders without a built-in role; one who has one keeps it, never holding two", async () => {
    const { org, owner, member } = await withHolder(["member", "billing"], { billing: ["audit:read"] });
    const alone = await join(owner);
    await giveRoles(owner, alone.userId, ["billing"]);
    expect((await del("/org/roles/billing?replace_with=admin", owner)).status).toBe(200);
    const doc = await stored(org.name);
    expect(doc.members[member.userId]).toMatchObject({ role: "member" });
    expect(doc.members[member.userId]?.roles).toBeUndefined();
    expect(doc.members[alone.userId]).toMatchObject({ role: "admin" });
    expectConsistent(doc);
  });

  it("a member who holds a custom role can be removed, and can leave", async () => {
    const { org, owner, member } = await withHolder(["billing"], { billing: ["records:read"] });
    const second = await join(owner);
    await giveRoles(owner, second.userId, ["member", "billing"]);
    expect((await del(`/org/members/${member.userId}`, owner)).status).toBe(200);
    const secondToken = await loginToken(second.email, second.password);
    expect((await postJson("/org/leave", {}, bearer(secondToken))).status).toBe(200);
    const doc = await stored(org.name);
    expect(Object.keys(doc.members)).toHaveLength(1);
    expectConsistent(doc);
  });
});

// Each round builds an organization and its members first; on the gateway over FerretDB, with the
// other suites beside it, a round takes seconds.
describe("races", { timeout: 180_000 }, () => {
  const settle = <T>(promises: Promise<T>[]) => Promise.all(promises);

  it("a role deleted while it is given: it is either held and kept, or gone and held by no one", async () => {
    for (let round = 0; round < 6; round++) {
      const org = await createOrg(uniqueName("Race"));
      const owner = await loginToken(org.email, org.password);
      await defineRole(owner, "billing", ["records:read"]);
      const member = await join(owner);
      const [deleted, given] = (await settle([
        del("/org/roles/billing", owner),
        patchJson(`/org/members/${member.userId}`, { roles: ["billing"] }, bearer(owner)),
      ])) as [Response, Response];
      const doc = await stored(org.name);
      expectConsistent(doc);
      if (doc.custom_roles?.billing) {
        expect(deleted.status).toBe(409);
        expect(given.status).toBe(200);
      } else {
        expect(deleted.status).toBe(200);
        expect([422, 409]).toContain(given.status);
      }
    }
  });

  it("a member removed while given a role, and a holder removed while their role is replaced: never half a member", async () => {
    for (let round = 0; round < 6; round++) {
      const org = await createOrg(uniqueName("Race"));
      const owner = await loginToken(org.email, org.password);
      await defineRole(owner, "billing", ["records:read"]);
      const a = await join(owner);
      const b = await join(owner);
      await giveRoles(owner, b.userId, ["billing"]);
      const answers = await settle([
        del(`/org/members/${a.userId}`, owner),
        patchJson(`/org/members/${a.userId}`, { roles: ["member", "billing"] }, bearer(owner)),
        del(`/org/members/${b.userId}`, owner),
        del("/org/roles/billing?replace_with=member", owner),
      ]);
      for (const res of answers) expect(res.status, await res.clone().text()).toBeLessThan(500);
      const doc = await stored(org.name);
      expectConsistent(doc);
      expect(doc.members[a.userId]).toBeUndefined();
      expect(doc.members[b.userId]).toBeUndefined();
    }
  });

  it("two owners who take each other's ownership at once by roles: one owner always remains", async () => {
    for (let round = 0; round < 4; round++) {
      const org = await createOrg(uniqueName("Race"));
      const first = await loginToken(org.email, org.password);
      await defineRole(first, "billing", ["records:read"]);
      const second = await join(first, "owner");
      const firstId = claimsOf(first).admin_id as string;
      const answers = await settle([
        patchJson(`/org/members/${second.userId}`, { roles: ["member", "billing"] }, bearer(first)),
        patchJson(`/org/members/${firstId}`, { roles: ["billing"] }, bearer(second.token)),
      ]);
      expect(answers.map((res) => res.status).sort()).toEqual(expect.arrayContaining([200]));
      expectConsistent(await stored(org.name));
    }
  });
});

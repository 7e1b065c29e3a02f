import { describe, expect, it } from "vitest";
import { INVITATIONS } from "../../src/domain/invitations/invitations";
import { ERRORS } from "../../src/domain/kernel/errors";
import { can, ROLES, type Role } from "../../src/domain/kernel/roles";
import { ROUTES } from "../../src/http/routes";
import {
  bearer,
  call,
  createOrg,
  emailFor,
  env,
  invite,
  join,
  loginToken,
  patchJson,
  postJson,
  putJson,
  roundTrips,
  storeClient,
  uniqueName,
  useOwnDatabase,
} from "../helpers";
import { newTenant, SUCCESS, send } from "./surface/cases";

const detail = async (res: Response) => ((await res.json()) as { detail: unknown }).detail;
const tokenOf = async (res: Response) => ((await res.json()) as { access_token: string }).access_token;
const claimsOf = (token: string) =>
  JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { admin_id: string; org_id: string; role: string; tv: number };
const records = (token: string) => call("/org/records", { headers: bearer(token) });
const del = (path: string, token: string) => call(path, { method: "DELETE", headers: bearer(token) });
// Hundreds of organizations (the role matrix makes one per case): a database of this file's own.
useOwnDatabase("members");
const database = () => storeClient(env.DATABASE ?? "master_db");

// On the embedded store only, as the scopes × routes and custom-role matrices are: a built-in role is
// admitted or refused by the HTTP layer (the token's role against the route's permission), the same
// code on either store, and through the gateway it was three minutes of CI a run; the guards that
// keep a token current run through the gateway in every other suite.
describe.skipIf(env.DATA_API_URL)("roles × routes: every protected route checks its permission", () => {
  const protectedRoutes = ROUTES.filter((route) => !route.internal && route.auth === "required");
  const cases = protectedRoutes.flatMap((route) => ROLES.map((role) => [`${route.method.toUpperCase()} ${route.path}`, role, route.permission] as const));

  it.each(cases)("%s as %s", async (name, role, permission) => {
    const tenant = await newTenant(name);
    const actor = role === "owner" ? { token: tenant.token, password: tenant.password } : await join(tenant.token, role as Role);
    // The owner may leave only beside another owner: the last-owner rule is not the permission under test.
    if (name === "POST /org/leave" && role === "owner") await join(tenant.token, "owner");
    const ask = SUCCESS[name];
    if (!ask) throw new Error(`no request for ${name}`);
    // The actor's own password, and their own organization to switch to: what the route needs from any caller.
    const request = ask({ ...tenant, password: actor.password, secondOrganization: role === "owner" ? tenant.secondOrganization : tenant.name });
    const res = await send({ ...request, headers: { ...request.headers, ...bearer(actor.token) } });
    const allowed = permission === undefined || can(role as Role, permission);
    if (allowed) {
      expect(res.status, `${name} as ${role}: ${await res.clone().text()}`).toBeLessThan(400);
    } else {
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ detail: ERRORS.PERMISSION_DENIED.message });
    }
  });

  it("a rename by password checks the same permission", async () => {
    const org = await createOrg(uniqueName("Perm"));
    const member = await join(await loginToken(org.email, org.password));
    const res = await putJson("/org/update", {
      organization_name: org.name,
      new_organization_name: uniqueName("Perm"),
      email: member.email,
      password: member.password,
    });
    expect(res.status).toBe(403);
    expect(await detail(res)).toBe(ERRORS.PERMISSION_DENIED.message);
  });
});

describe("invitations", () => {
  it("invite, list, accept as a new account: the token names the organization and the role; the invitation is used up", async () => {
    const org = await createOrg(uniqueName("Inv"));
    const owner = await loginToken(org.email, org.password);
    const email = `new+${Date.now().toString(36)}@example.com`;
    const created = await postJson("/org/invitations", { email, role: "admin" }, bearer(owner));
    expect(created.status).toBe(201);
    const invitation = (await created.json()) as { id: string; token: string; role: string; expires_at: string; created_at: string };
    expect(invitation.role).toBe("admin");
    // Seven days by default.
    expect(Date.parse(invitation.expires_at) - Date.parse(invitation.created_at)).toBe(7 * 24 * 3600 * 1000);
    // The token is kept only as a hash.
    const stored = await database().collection(INVITATIONS).findOne({ email });
    expect(JSON.stringify(stored)).not.toContain(invitation.token);

    const listed = await call("/org/invitations", { headers: bearer(owner) });
    expect(((await listed.json()) as { invitations: { id: string }[] }).invitations.map((i) => i.id)).toEqual([invitation.id]);

    const accepted = await postJson("/invitations/accept", { token: invitation.token, password: "Joiner-1234" });
    expect(accepted.status).toBe(200);
    const token = await tokenOf(accepted);
    expect(claimsOf(token)).toMatchObject({ org_id: claimsOf(owner).org_id, role: "admin" });
    expect((await records(token)).status).toBe(200);
    // The new account logs in by itself.
    expect(claimsOf(await loginToken(email, "Joiner-1234")).role).toBe("admin");

    const again = await postJson("/invitations/accept", { token: invitation.token, password: "Joiner-1234" });
    expect(again.status).toBe(410);
    expect(await detail(again)).toBe(ERRORS.INVITATION_INVALID.message);
    const after = await call("/org/invitations", { headers: bearer(owner) });
    expect(((await after.json()) as { invitations: unknown[] }).invitations).toEqual([]);
  });

  it("revoked, expired, unknown and used tokens all answer the same 410", async () => {
    const org = await createOrg(uniqueName("Inv"));
    const owner = await loginToken(org.email, org.password);
    const revoked = await invite(owner, `r+${Date.now().toString(36)}@example.com`);
    expect((await del(`/org/invitations/${revoked.id}`, owner)).status).toBe(200);
    const expired = await invite(owner, `e+${Date.now().toString(36)}@example.com`);
    await database()
      .collection(INVITATIONS)
      .updateOne({ token_hash: { $exists: true }, email: expired.email }, { $set: { expires_at: new Date(Date.now() - 1000) } });
    const answers = await Promise.all(
      [revoked.token, expired.token, "no-such-token"].map((token) => postJson("/invitations/accept", { token, password: "Joiner-1234" })),
    );
    for (const res of answers) {
      expect(res.status).toBe(410);
      expect(await res.json()).toEqual({ detail: ERRORS.INVITATION_INVALID.message });
    }
    // An expired invitation gives way to a new one for the same e-mail; a pending one does not.
    const renewed = await postJson("/org/invitations", { email: expired.email, role: "member" }, bearer(owner));
    expect(renewed.status).toBe(201);
    const duplicate = await postJson("/org/invitations", { email: expired.email.toUpperCase(), role: "member" }, bearer(owner));
    expect(duplicate.status).toBe(409);
    expect(await detail(duplicate)).toBe(ERRORS.INVITATION_EXISTS.message);
  });

  it("an e-mail with an account needs its password or its token: the invitation alone takes nothing over", async () => {
    const home = await createOrg(uniqueName("Home"));
    const inviting = await createOrg(uniqueName("Inviting"));
    const owner = await loginToken(inviting.email, inviting.password);
    const { token } = await invite(owner, home.email.toUpperCase());

    const bare = await postJson("/invitations/accept", { token });
    expect(bare.status).toBe(409);
    expect(await detail(bare)).toBe(ERRORS.ACCOUNT_EXISTS.message);
    const wrong = await postJson("/invitations/accept", { token, password: "not-the-password" });
    expect(wrong.status).toBe(401);
    // The old password still works and nothing joined.
    const homeToken = await loginToken(home.email, home.password);
    expect((await call("/org/members", { headers: bearer(owner) }).then((r) => r.json())) as { members: unknown[] }).toMatchObject({
      members: [expect.anything()],
    });

    const byToken = await postJson("/invitations/accept", { token }, bearer(homeToken));
    expect(byToken.status).toBe(200);
    expect(claimsOf(await tokenOf(byToken)).admin_id).toBe(claimsOf(homeToken).admin_id);
    // Now in two organizations: login names one, or answers 409.
    const ambiguous = await postJson("/admin/login", { email: home.email, password: home.password });
    expect(ambiguous.status).toBe(409);
    expect(await detail(ambiguous)).toBe(ERRORS.ORGANIZATION_REQUIRED.message);
    const chosen = await postJson("/admin/login", { email: home.email, password: home.password, organization_name: inviting.name });
    expect(chosen.status).toBe(200);
    expect(roundTrips(chosen)).toBe(2);
    expect(claimsOf(await tokenOf(chosen))).toMatchObject({ org_id: claimsOf(owner).org_id, role: "member" });
    // A wrong password is the same 401 whichever organization is named.
    const wrongNamed = await postJson("/admin/login", { email: home.email, password: "nope-nope", organization_name: inviting.name });
    expect(wrongNamed.status).toBe(401);
  });

  it("refuses inviting a member, and an admin inviting an owner", async () => {
    const org = await createOrg(uniqueName("Inv"));
    const owner = await loginToken(org.email, org.password);
    const already = await postJson("/org/invitations", { email: org.email, role: "member" }, bearer(owner));
    expect(already.status).toBe(409);
    expect(await detail(already)).toBe(ERRORS.ALREADY_MEMBER.message);
    const admin = await join(owner, "admin");
    const escalation = await postJson("/org/invitations", { email: `x+${Date.now().toString(36)}@example.com`, role: "owner" }, bearer(admin.token));
    expect(escalation.status).toBe(403);
  });

  it("a new account's password follows the create rules; injection in the token changes nothing", async () => {
    const org = await createOrg(uniqueName("Inv"));
    const owner = await loginToken(org.email, org.password);
    const { token } = await invite(owner, `p+${Date.now().toString(36)}@example.com`);
    const short = await postJson("/invitations/accept", { token, password: "short" });
    expect(short.status).toBe(422);
    const injected = await postJson("/invitations/accept", { token: { $ne: null }, password: "Joiner-1234" });
    expect(injected.status).toBe(422);
    const extra = await postJson("/invitations/accept", { token, password: "Joiner-1234", role: "owner" });
    expect(extra.status).toBe(422);
    expect((await postJson("/invitations/accept", { token, password: "Joiner-1234" })).status).toBe(200);
  });
});

describe("members", () => {
  it("lists a page at a time, each member once", async () => {
    const org = await createOrg(uniqueName("Mem"));
    const owner = await loginToken(org.email, org.password);
    const joined = await Promise.all([join(owner), join(owner), join(owner, "admin")]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/org/members?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { headers: bearer(owner) });
      expect(res.status).toBe(200);
      // The organization (its members inside it), then which of the page's accounts verified their address.
      expect(roundTrips(res)).toBe(2);
      const page = (await res.json()) as { members: { user_id: string; email: string; role: string }[]; next_cursor: string | null };
      expect(page.members.length).toBeLessThanOrEqual(2);
      seen.push(...page.members.map((m) => m.user_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([claimsOf(owner).admin_id, ...joined.map((m) => m.userId)].sort());
    expect((await call("/org/members?cursor=nonsense", { headers: bearer(owner) })).status).toBe(422);
  });

  it("changing a role revokes the member's earlier tokens; their new token carries the role", async () => {
    const org = await createOrg(uniqueName("Mem"));
    const owner = await loginToken(org.email, org.password);
    const member = await join(owner);
    const res = await patchJson(`/org/members/${member.userId}`, { role: "admin" }, bearer(owner));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user_id: member.userId, role: "admin" });
    expect(roundTrips(res)).toBeLessThanOrEqual(4);
    expect((await records(member.token)).status).toBe(401);
    expect(claimsOf(await loginToken(member.email, member.password)).role).toBe("admin");
  });

  it("removing a member revokes their tokens and closes an account left in no organization", async () => {
    const org = await createOrg(uniqueName("Mem"));
    const owner = await loginToken(org.email, org.password);
    const member = await join(owner);
    const res = await del(`/org/members/${member.userId}`, owner);
    expect(res.status).toBe(200);
    expect(roundTrips(res)).toBeLessThanOrEqual(4);
    expect((await records(member.token)).status).toBe(401);
    const login = await postJson("/admin/login", { email: member.email, password: member.password });
    expect(login.status).toBe(401);
    // The e-mail is free: a new organization can be created with it.
    const reused = await postJson("/org/create", { organization_name: uniqueName("Reuse"), email: member.email, password: "Another-1234" });
    expect(reused.status).toBe(200);
    expect((await del(`/org/members/${member.userId}`, owner)).status).toBe(404);
  });

  it("the last owner can neither leave, be removed nor be demoted; an owner can make another owner, who then can", async () => {
    const org = await createOrg(uniqueName("Own"));
    const owner = await loginToken(org.email, org.password);
    const ownerId = claimsOf(owner).admin_id;
    for (const res of [
      await postJson("/org/leave", {}, bearer(owner)),
      await del(`/org/members/${ownerId}`, owner),
      await patchJson(`/org/members/${ownerId}`, { role: "admin" }, bearer(owner)),
    ]) {
      expect(res.status).toBe(409);
      expect(await detail(res)).toBe(ERRORS.LAST_OWNER.message);
    }
    const admin = await join(owner, "admin");
    // An admin can neither make an owner nor touch one.
    expect((await patchJson(`/org/members/${admin.userId}`, { role: "owner" }, bearer(admin.token))).status).toBe(403);
    expect((await del(`/org/members/${ownerId}`, admin.token)).status).toBe(403);
    expect((await patchJson(`/org/members/${admin.userId}`, { role: "owner" }, bearer(owner))).status).toBe(200);
    const second = await loginToken(admin.email, admin.password);
    const left = await postJson("/org/leave", {}, bearer(owner));
    expect(left.status).toBe(200);
    expect((await records(owner)).status).toBe(401);
    const list = (await (await call("/org/members", { headers: bearer(second) })).json()) as { members: { role: string }[] };
    expect(list.members.map((m) => m.role)).toEqual(["owner"]);
  });

  it("removing the last two owners in parallel: exactly one goes", async () => {
    const org = await createOrg(uniqueName("Own"));
    const first = await loginToken(org.email, org.password);
    const other = await join(first, "owner");
    const answers = await Promise.all([
      del(`/org/members/${other.userId}`, first),
      del(`/org/members/${claimsOf(first).admin_id}`, other.token),
      postJson("/org/leave", {}, bearer(first)),
      postJson("/org/leave", {}, bearer(other.token)),
    ]);
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 409 || s === 401 || s === 404)).toBe(true);
    // One of the two is still a member, and the only owner.
    const lists = await Promise.all([first, other.token].map((token) => call("/org/members", { headers: bearer(token) })));
    const still = lists.filter((res) => res.status === 200);
    expect(still).toHaveLength(1);
    const [survivor] = still;
    if (!survivor) throw new Error("no owner left");
    const { members } = (await survivor.json()) as { members: { role: string }[] };
    expect(members).toEqual([expect.objectContaining({ role: "owner" })]);
  });

  it("two accepts of one invitation: one wins", async () => {
    const org = await createOrg(uniqueName("Race"));
    const owner = await loginToken(org.email, org.password);
    const { token } = await invite(owner, `race+${Date.now().toString(36)}@example.com`);
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => postJson("/invitations/accept", { token, password: `Racer-1234-${i}` })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 410, 410, 410]);
    const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: unknown[] };
    expect(members.members).toHaveLength(2);
  });
});

describe("data round trips of the membership routes", () => {
  it("stay within the budget: changes ≤ 4, reads 1 or 2, login 2", async () => {
    const org = await createOrg(uniqueName("Trips"));
    const owner = await loginToken(org.email, org.password);
    const email = `trips+${Date.now().toString(36)}@example.com`;
    const invited = await postJson("/org/invitations", { email, role: "member" }, bearer(owner));
    // The lease, the invitation carrying its event, the event relayed to the organization's feed.
    expect(roundTrips(invited)).toBe(3);
    const other = await postJson("/org/invitations", { email: `other-${email}`, role: "member" }, bearer(owner));
    // The lease, the mark carrying the event, the relay, the removal.
    const revoke = await del(`/org/invitations/${((await other.json()) as { id: string }).id}`, owner);
    expect(revoke.status).toBe(200);
    expect(roundTrips(revoke)).toBe(4);
    const { token } = (await invited.json()) as { token: string };
    const accepted = await postJson("/invitations/accept", { token, password: "Joiner-1234" });
    expect(roundTrips(accepted)).toBe(6);
    const member = claimsOf(await tokenOf(accepted)).admin_id;
    expect(roundTrips(await call("/org/members", { headers: bearer(owner) }))).toBe(2);
    expect(roundTrips(await call("/org/invitations", { headers: bearer(owner) }))).toBe(2);
    expect(roundTrips(await patchJson(`/org/members/${member}`, { role: "admin" }, bearer(owner)))).toBe(1);
    expect(roundTrips(await del(`/org/members/${member}`, owner))).toBe(3);
    const login = await postJson("/admin/login", { email: org.email, password: org.password });
    expect(roundTrips(login)).toBe(2);
    await postJson("/org/create", { organization_name: uniqueName("Trips") }, bearer(owner));
    const switched = await postJson("/auth/switch", { organization_name: org.name }, bearer(owner));
    expect(roundTrips(switched)).toBe(2);
  });
});

describe("several organizations per user", () => {
  it("a signed-in user creates another organization by token, switches between them, and deletes one without losing the other", async () => {
    const org = await createOrg(uniqueName("First"));
    const first = await loginToken(org.email, org.password);
    const secondName = uniqueName("Second");
    const created = await postJson("/org/create", { organization_name: secondName }, bearer(first));
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ admin_email: org.email });
    // With an e-mail and a password the body is the old contract's create, whose service ignored any
    // Authorization header: the token is not used, and this e-mail already has an account.
    const withCredentials = await postJson("/org/create", { organization_name: uniqueName("Third"), email: org.email, password: org.password }, bearer(first));
    expect(withCredentials.status).toBe(409);
    expect(await withCredentials.json()).toEqual({ detail: ERRORS.ADMIN_EMAIL_EXISTS.message });
    const anyHeader = uniqueName("Fourth");
    const oldClient = await postJson("/org/create", { organization_name: anyHeader, email: emailFor(anyHeader), password: "Test1234" }, bearer("not.a.token"));
    expect(oldClient.status).toBe(200);
    expect(await oldClient.json()).toMatchObject({ organization_name: anyHeader, admin_email: emailFor(anyHeader) });

    const switched = await postJson("/auth/switch", { organization_name: secondName }, bearer(first));
    expect(switched.status).toBe(200);
    const second = await tokenOf(switched);
    expect(claimsOf(second)).toMatchObject({ admin_id: claimsOf(first).admin_id, role: "owner" });
    expect(claimsOf(second).org_id).not.toBe(claimsOf(first).org_id);
    // Not a member: the same 404 as an unknown name.
    const stranger = await createOrg(uniqueName("Stranger"));
    expect((await postJson("/auth/switch", { organization_name: stranger.name }, bearer(first))).status).toBe(404);

    // A password change revokes the tokens of every organization of the account.
    const changed = await postJson("/admin/password", { current_password: org.password, new_password: "Changed-1234" }, bearer(first));
    expect(changed.status).toBe(200);
    expect((await records(second)).status).toBe(401);
    const fresh = await tokenOf(changed);

    const deleted = await call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, {
      method: "DELETE",
      headers: { ...bearer(fresh), "x-admin-email": org.email },
    });
    expect(deleted.status).toBe(200);
    // The account stays for the other organization; the login no longer needs a name.
    const login = await postJson("/admin/login", { email: org.email, password: "Changed-1234" });
    expect(login.status).toBe(200);
    expect(claimsOf(await tokenOf(login)).org_id).not.toBe(claimsOf(first).org_id);
    expect((await postJson("/org/create", { organization_name: uniqueName("Again"), email: org.email, password: "Test1234" })).status).toBe(409);
  });

  it("the old contract holds for a one-organization admin: create, login, get with the e-mail, delete frees the e-mail", async () => {
    const name = uniqueName("Old");
    const email = emailFor(name);
    expect((await postJson("/org/create", { organization_name: name, email, password: "Test1234" })).status).toBe(200);
    const token = await loginToken(email, "Test1234");
    const got = await call(`/org/get?organization_name=${encodeURIComponent(name)}`, { headers: bearer(token) });
    expect(await got.json()).toMatchObject({ admin_email: email });
    expect(roundTrips(got)).toBe(1);
    const member = await join(token);
    const asMember = await call(`/org/get?organization_name=${encodeURIComponent(name)}`, { headers: bearer(member.token) });
    expect(await asMember.json()).not.toHaveProperty("admin_email");
    const deleted = await call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: bearer(token) });
    expect(deleted.status).toBe(200);
    for (const [who, password] of [
      [email, "Test1234"],
      [member.email, member.password],
    ] as const) {
      expect((await postJson("/admin/login", { email: who, password })).status).toBe(401);
    }
    expect((await postJson("/org/create", { organization_name: name, email, password: "Test1234" })).status).toBe(200);
  });
});

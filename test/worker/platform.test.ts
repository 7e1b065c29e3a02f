import { runInDurableObject } from "cloudflare:test";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { ConfigError, parseSettings } from "../../src/config/settings";
import { connectData } from "../../src/data/connect";
import { USERS } from "../../src/domain/accounts/accounts";
import { AUDIT_LOG, type AuditEvent } from "../../src/domain/audit/audit";
import { INVITATIONS } from "../../src/domain/invitations/invitations";
import { ERRORS } from "../../src/domain/kernel/errors";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { collectionNameFor, slugify } from "../../src/domain/kernel/slug";
import { PLATFORM_SORTS } from "../../src/domain/platform/cursor";
import { PLATFORM_STATUSES, pageQuery } from "../../src/domain/platform/listing";
import { orderedIndexFor } from "../../src/store/key-order";
import {
  call,
  callWith,
  createOrg,
  env,
  invite,
  join,
  loginToken,
  operator,
  PLATFORM_READ_KEY,
  PLATFORM_WRITE_KEY,
  patchJson,
  postJson,
  putJson,
  roundTrips,
  uniqueName,
} from "../helpers";

const store = () => connectData(env, parseSettings(env));
const organizations = () => store().collection<OrganizationDoc>(ORGANIZATIONS);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const NOT_FOUND = { detail: ERRORS.NOT_FOUND.message };
const SUSPENDED = { detail: ERRORS.ORGANIZATION_SUSPENDED.message };

const idOf = async (name: string): Promise<string> => {
  const org = await organizations().findOne({ slug: slugify(name) }, { projection: { _id: 1 } });
  if (!org) throw new Error(`no organization ${name}`);
  return org._id.toHexString();
};

const platform = (path: string, key: string, init: RequestInit = {}) =>
  call(path, { ...init, headers: { ...operator(key), ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers ?? {}) } });

const suspend = (id: string, reason = "unpaid", key = PLATFORM_WRITE_KEY) =>
  callWith({}, `/platform/organizations/${id}/suspend`, {
    method: "POST",
    headers: { ...operator(key), "content-type": "application/json" },
    body: JSON.stringify({ reason }),
  });

/** A real organization with a token and one record. */
const tenant = async () => {
  const org = await createOrg(uniqueName("Plat"));
  const token = await loginToken(org.email, org.password);
  const created = await postJson("/org/records", { plan: "pro" }, bearer(token));
  const record = (await created.json()) as { id: string };
  return { ...org, token, recordId: record.id, id: await idOf(org.name) };
};

const EVERY_ROUTE: [string, string][] = [
  ["GET", "/platform/organizations"],
  ["GET", "/platform/organizations/ffffffffffffffffffffffff"],
  ["POST", "/platform/organizations/ffffffffffffffffffffffff/suspend"],
  ["POST", "/platform/organizations/ffffffffffffffffffffffff/reactivate"],
  ["DELETE", "/platform/organizations/ffffffffffffffffffffffff"],
  ["GET", "/platform/stats"],
  // A wrong method on a platform path: a 405 would tell that the path exists.
  ["PUT", "/platform/stats"],
];

describe("operator keys", () => {
  it("without PLATFORM_API_KEYS, every /platform path answers the 404 of an unknown path, whatever is presented", async () => {
    for (const [method, path] of EVERY_ROUTE) {
      for (const headers of [{}, operator(PLATFORM_WRITE_KEY)]) {
        const res = await callWith({ PLATFORM_API_KEYS: "" }, path, { method, headers });
        expect({ path, method, status: res.status, body: await res.json() }).toEqual({ path, method, status: 404, body: NOT_FOUND });
      }
    }
  });

  it("with keys: a missing or wrong key, or an admin's token, gets that same 404; a read key reads; only a write key acts", async () => {
    const t = await tenant();
    for (const [method, path] of EVERY_ROUTE) {
      for (const headers of [
        {},
        operator(`${PLATFORM_WRITE_KEY}x`),
        operator(PLATFORM_WRITE_KEY.slice(0, -1)),
        bearer(t.token),
        { authorization: "Basic b3BzOnNlY3JldA==" },
      ]) {
        const res = await call(path, { method, headers });
        expect({ path, status: res.status, body: await res.json() }).toEqual({ path, status: 404, body: NOT_FOUND });
      }
    }
    expect((await platform("/platform/stats", PLATFORM_READ_KEY)).status).toBe(200);
    expect((await platform(`/platform/organizations/${t.id}`, PLATFORM_READ_KEY)).status).toBe(200);
    const refused = await suspend(t.id, "unpaid", PLATFORM_READ_KEY);
    expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 403, body: { detail: ERRORS.PLATFORM_READ_ONLY.message } });
    for (const [method, path] of [
      ["POST", `/platform/organizations/${t.id}/reactivate`],
      ["DELETE", `/platform/organizations/${t.id}`],
    ] as const) {
      expect((await platform(path, PLATFORM_READ_KEY, { method })).status).toBe(403);
    }
    // Nothing changed: the admin still works.
    expect((await call("/org/records", { headers: bearer(t.token) })).status).toBe(200);
    // With a key, a wrong method is the usual 405.
    expect((await platform("/platform/stats", PLATFORM_READ_KEY, { method: "PUT" })).status).toBe(405);
  });

  it("an operator key is no admin token: /org and /admin refuse it", async () => {
    const t = await tenant();
    for (const key of [PLATFORM_READ_KEY, PLATFORM_WRITE_KEY]) {
      for (const [method, path] of [
        ["GET", "/org/records"],
        ["GET", `/org/records/${t.recordId}`],
        ["DELETE", `/org/records/${t.recordId}`],
        ["POST", "/admin/logout"],
        ["DELETE", `/org/delete?organization_name=${encodeURIComponent(t.name)}`],
      ]) {
        const res = await call(path as string, { method, headers: operator(key) });
        expect({ path, status: res.status, body: await res.json() }).toEqual({ path, status: 401, body: { detail: ERRORS.INVALID_TOKEN.message } });
      }
      // The optional token of /org/get: not the admin, so no e-mail.
      const got = await call(`/org/get?organization_name=${encodeURIComponent(t.name)}`, { headers: operator(key) });
      expect(await got.json()).not.toHaveProperty("admin_email");
    }
    expect((await call("/org/records", { headers: bearer(t.token) })).status).toBe(200);
  });

  it("several keys at once, for rotation; each action is audited with its key's id, never the key", async () => {
    const t = await tenant();
    const oldKey = "old-write-key-0123456789abcdef0123456789";
    const newKey = "new-write-key-0123456789abcdef0123456789";
    const keys = { PLATFORM_API_KEYS: `2026-01:write:${oldKey}, 2026-02:write:${newKey}` };
    const byOld = await callWith(keys, `/platform/organizations/${t.id}/suspend`, {
      method: "POST",
      headers: { ...operator(oldKey), "content-type": "application/json" },
      body: JSON.stringify({ reason: "rotation check" }),
    });
    expect(byOld.status).toBe(200);
    expect(((await byOld.json()) as { suspension: { by_key_id: string } }).suspension.by_key_id).toBe("2026-01");
    const byNew = await callWith(keys, `/platform/organizations/${t.id}/reactivate`, { method: "POST", headers: operator(newKey) });
    expect(byNew.status).toBe(200);
    // The keys of the default configuration are not among these.
    expect((await callWith(keys, "/platform/stats", { headers: operator(PLATFORM_WRITE_KEY) })).status).toBe(404);

    const events = await store()
      .collection<AuditEvent & Record<string, unknown>>(AUDIT_LOG)
      .find({ org_id: t.id, action: { $in: ["platform.suspend", "platform.reactivate"] } }, { sort: { at: 1 } });
    expect(events.map((e) => [e.action, e.key_id, e.outcome])).toEqual([
      ["platform.suspend", "2026-01", "success"],
      ["platform.reactivate", "2026-02", "success"],
    ]);
    expect(events[0]?.reason).toBe("rotation check");
    const text = JSON.stringify(events);
    for (const secret of [oldKey, newKey]) expect(text).not.toContain(secret);
  });

  it("refuses keys that are short, malformed or repeated at start, naming the entry but never its secret", async () => {
    const secret = "s".repeat(40);
    const cases: [string, RegExp][] = [
      [`ops:write:${"s".repeat(31)}`, /entry 1 \(ops\) needs a secret of at least 32 characters/],
      [`ops:admin:${secret}`, /entry 1 \(ops\) needs the scope read or write/],
      [`:read:${secret}`, /entry 1 needs a key id/],
      [`a:read:${secret},a:write:${"t".repeat(40)}`, /entry 2 \(a\) repeats a key id/],
      [`a:read:${secret},b:write:${secret}`, /entry 2 \(b\) repeats another entry's secret/],
      [`ops:read:${"s".repeat(39)} x`, /entry 1 \(ops\) needs a secret of \[A-Za-z0-9._~\+\/=-\] only/],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        parseSettings({ ...env, PLATFORM_API_KEYS: value });
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("s".repeat(31));
      // The Worker does not start half-configured: every request is the logged configuration 500.
      const res = await callWith({ PLATFORM_API_KEYS: value }, "/org/get?organization_name=x");
      expect(res.status).toBe(500);
    }
    expect(parseSettings({ ...env, PLATFORM_API_KEYS: `a:read:${secret}, b:write:${"t".repeat(40)}` }).platformKeys.map((k) => [k.id, k.scope])).toEqual([
      ["a", "read"],
      ["b", "write"],
    ]);
  });
});

describe("a suspended organization", () => {
  it("is refused on every endpoint of its admin, shows as suspended, loses nothing, and comes back on reactivation", async () => {
    const t = await tenant();
    const res = await suspend(t.id, "  abuse report 17  ");
    expect(res.status).toBe(200);
    const detail = (await res.json()) as { suspended: boolean; status: string; suspension: { reason: string; by_key_id: string }; record_count: number };
    expect(detail).toMatchObject({ suspended: true, status: "active", suspension: { reason: "abuse report 17", by_key_id: "ops-write" }, record_count: 1 });

    const asked: [string, Promise<Response>][] = [
      ["login", postJson("/admin/login", { email: t.email, password: t.password })],
      [
        "update by password",
        putJson("/org/update", { organization_name: t.name, new_organization_name: uniqueName("Nope"), email: t.email, password: t.password }),
      ],
      ["update by token", putJson("/org/update", { organization_name: t.name, new_organization_name: uniqueName("Nope") }, bearer(t.token))],
      ["delete", call(`/org/delete?organization_name=${encodeURIComponent(t.name)}`, { method: "DELETE", headers: bearer(t.token) })],
      ["password", postJson("/admin/password", { current_password: t.password, new_password: "An0ther-pass" }, bearer(t.token))],
      ["create record", postJson("/org/records", { plan: "x" }, bearer(t.token))],
      ["list records", call("/org/records", { headers: bearer(t.token) })],
      ["read record", call(`/org/records/${t.recordId}`, { headers: bearer(t.token) })],
      ["replace record", putJson(`/org/records/${t.recordId}`, { plan: "y" }, bearer(t.token))],
      ["delete record", call(`/org/records/${t.recordId}`, { method: "DELETE", headers: bearer(t.token) })],
    ];
    for (const [what, pending] of asked) {
      const answer = await pending;
      expect({ what, status: answer.status, body: await answer.json() }).toEqual({ what, status: 403, body: SUSPENDED });
    }
    // A wrong password learns nothing about the suspension.
    const guess = await postJson("/admin/login", { email: t.email, password: "wrong-password" });
    expect({ status: guess.status, body: await guess.json() }).toEqual({ status: 401, body: { detail: ERRORS.INVALID_CREDENTIALS.message } });

    const metadata = await call(`/org/get?organization_name=${encodeURIComponent(t.name)}`, { headers: bearer(t.token) });
    const shown = (await metadata.json()) as Record<string, unknown>;
    expect(shown.status).toBe("suspended");
    expect(shown).not.toHaveProperty("admin_email");

    // Nothing was deleted or changed.
    const stored = await organizations().findOne({ slug: slugify(t.name) });
    expect(stored?.organization_name).toBe(t.name);
    expect(
      await store()
        .collection(collectionNameFor(slugify(t.name)))
        .countDocuments({}),
    ).toBe(1);

    const again = await suspend(t.id, "second reason");
    expect(((await again.json()) as { suspension: { reason: string } }).suspension.reason).toBe("abuse report 17");

    const back = await platform(`/platform/organizations/${t.id}/reactivate`, PLATFORM_WRITE_KEY, { method: "POST" });
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ suspended: false, suspension: null });
    expect((await call(`/org/records/${t.recordId}`, { headers: bearer(t.token) })).status).toBe(200);
    expect((await postJson("/admin/login", { email: t.email, password: t.password })).status).toBe(200);
    const active = (await (await call(`/org/get?organization_name=${encodeURIComponent(t.name)}`, { headers: bearer(t.token) })).json()) as Record<
      string,
      unknown
    >;
    expect(active).toMatchObject({ status: "active", admin_email: t.email });
  });

  it("is refused on every member and invitation route, to every role, and to a switch in or out; the other organizations of its members are not", async () => {
    const t = await tenant();
    const member = await join(t.token, "member");
    const admin = await join(t.token, "admin");
    const pending = await invite(t.token, `pending+${t.id}@example.com`);
    const unaccepted = await invite(t.token, `newcomer+${t.id}@example.com`);
    // The owner also owns a second organization, which stays active.
    const other = uniqueName("Plat Other");
    expect((await postJson("/org/create", { organization_name: other }, bearer(t.token))).status).toBe(200);
    const otherLogin = await postJson("/admin/login", { email: t.email, password: t.password, organization_name: other });
    const otherToken = ((await otherLogin.json()) as { access_token: string }).access_token;
    expect((await suspend(t.id)).status).toBe(200);

    const asked: [string, () => Promise<Response>][] = [
      ["login of a member", () => postJson("/admin/login", { email: member.email, password: member.password })],
      ["login naming it", () => postJson("/admin/login", { email: t.email, password: t.password, organization_name: t.name })],
      ["list members", () => call("/org/members", { headers: bearer(t.token) })],
      ["list members as a member", () => call("/org/members", { headers: bearer(member.token) })],
      ["change a role", () => patchJson(`/org/members/${member.userId}`, { role: "admin" }, bearer(t.token))],
      ["change a role as an admin", () => patchJson(`/org/members/${member.userId}`, { role: "admin" }, bearer(admin.token))],
      ["remove a member", () => call(`/org/members/${member.userId}`, { method: "DELETE", headers: bearer(t.token) })],
      ["leave", () => call("/org/leave", { method: "POST", headers: bearer(member.token) })],
      ["invite", () => postJson("/org/invitations", { email: `late+${t.id}@example.com`, role: "member" }, bearer(admin.token))],
      ["list invitations", () => call("/org/invitations", { headers: bearer(t.token) })],
      ["revoke an invitation", () => call(`/org/invitations/${pending.id}`, { method: "DELETE", headers: bearer(t.token) })],
      ["accept as a new account", () => postJson("/invitations/accept", { token: unaccepted.token, password: "Newcomer-1234" })],
      ["switch out", () => postJson("/auth/switch", { organization_name: other }, bearer(t.token))],
      ["switch in", () => postJson("/auth/switch", { organization_name: t.name }, bearer(otherToken))],
      ["create by its token", () => postJson("/org/create", { organization_name: uniqueName("Plat Nope") }, bearer(t.token))],
    ];
    for (const [what, ask] of asked) {
      const answer = await ask();
      expect({ what, status: answer.status, body: await answer.json() }).toEqual({ what, status: 403, body: SUSPENDED });
    }
    // A wrong password still learns nothing, in an organization named or not.
    const guess = await postJson("/admin/login", { email: member.email, password: "wrong-password" });
    expect(guess.status).toBe(401);

    // The other organization of its owner works as before.
    expect((await call("/org/members", { headers: bearer(otherToken) })).status).toBe(200);
    expect((await postJson("/admin/login", { email: t.email, password: t.password, organization_name: other })).status).toBe(200);

    // Nothing changed: the same members and roles, the invitations still pending, no account opened by the refused accept.
    const stored = await organizations().findOne({ _id: ObjectId.createFromHexString(t.id) });
    expect(
      Object.values(stored?.members ?? {})
        .map((m) => [m.email, m.role])
        .sort(),
    ).toEqual(
      [
        [t.email, "owner"],
        [member.email, "member"],
        [admin.email, "admin"],
      ].sort(),
    );
    const invitations = await store()
      .collection<{ email: string; claim?: unknown }>(INVITATIONS)
      .find({ org_id: ObjectId.createFromHexString(t.id) });
    expect(invitations.map((i) => [i.email, i.claim]).sort()).toEqual(
      [
        [pending.email, undefined],
        [unaccepted.email, undefined],
      ].sort(),
    );
    expect(await store().collection(USERS).countDocuments({ email: unaccepted.email })).toBe(0);

    // Reactivated, the same tokens and invitations work again.
    expect((await platform(`/platform/organizations/${t.id}/reactivate`, PLATFORM_WRITE_KEY, { method: "POST" })).status).toBe(200);
    expect((await call("/org/members", { headers: bearer(member.token) })).status).toBe(200);
    expect((await postJson("/invitations/accept", { token: unaccepted.token, password: "Newcomer-1234" })).status).toBe(200);
    expect((await postJson("/auth/switch", { organization_name: t.name }, bearer(otherToken))).status).toBe(200);
  });

  it("the right password, refused for the suspension, never adds up to a lockout", async () => {
    const t = await tenant();
    await suspend(t.id);
    const strict = { LOGIN_LOCKOUT_THRESHOLD: "2" };
    const login = () =>
      callWith(strict, "/admin/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: t.email, password: t.password }),
      });
    for (let i = 0; i < 4; i++) expect((await login()).status).toBe(403);
    await platform(`/platform/organizations/${t.id}/reactivate`, PLATFORM_WRITE_KEY, { method: "POST" });
    expect((await login()).status).toBe(200);
  });

  it("suspending again waits for the writes the first suspension is still draining", async () => {
    const t = await tenant();
    const id = ObjectId.createFromHexString(t.id);
    // A writer's lease still live on the document, as one that took it just before the mark holds it.
    const until = new Date(Date.now() + 400);
    await organizations().updateOne({ _id: id }, { $set: { suspended: true, "write_leases.held": until } });
    const began = Date.now();
    expect((await suspend(t.id)).status).toBe(200);
    expect(Date.now()).toBeGreaterThanOrEqual(until.getTime());
    expect(Date.now() - began).toBeLessThan(10_000);
  });

  it("logout still works: it only revokes", async () => {
    const t = await tenant();
    await suspend(t.id);
    expect((await call("/admin/logout", { method: "POST", headers: bearer(t.token) })).status).toBe(200);
    await platform(`/platform/organizations/${t.id}/reactivate`, PLATFORM_WRITE_KEY, { method: "POST" });
    expect((await call("/org/records", { headers: bearer(t.token) })).status).toBe(401);
  });

  it("unknown ids and ids that are not ObjectIds are 404 on every operator route", async () => {
    for (const id of [new ObjectId().toHexString(), "nope", "ffffffffffffffffffffffffff"]) {
      expect((await platform(`/platform/organizations/${id}`, PLATFORM_READ_KEY)).status).toBe(404);
      expect((await suspend(id)).status).toBe(404);
      expect((await platform(`/platform/organizations/${id}/reactivate`, PLATFORM_WRITE_KEY, { method: "POST" })).status).toBe(404);
      expect((await platform(`/platform/organizations/${id}`, PLATFORM_WRITE_KEY, { method: "DELETE" })).status).toBe(404);
    }
    const bad = await platform(`/platform/organizations/${new ObjectId().toHexString()}/suspend`, PLATFORM_WRITE_KEY, {
      method: "POST",
      body: JSON.stringify({ reason: "   " }),
    });
    expect(bad.status).toBe(422);
  });
});

describe("inspection, delete and stats", () => {
  it("shows metadata, the admin, counts and the operation in progress", async () => {
    const t = await tenant();
    const res = await platform(`/platform/organizations/${t.id}`, PLATFORM_READ_KEY);
    expect(await res.json()).toMatchObject({
      id: t.id,
      organization_name: t.name,
      slug: slugify(t.name),
      collection_name: collectionNameFor(slugify(t.name)),
      status: "active",
      suspended: false,
      admins: [{ email: t.email, role: "owner" }],
      member_count: 1,
      record_count: 1,
      suspension: null,
      pending: null,
    });
    await organizations().updateOne(
      { _id: ObjectId.createFromHexString(t.id) },
      { $set: { status: "renaming", pending: { op: "rename", started_at: new Date() } } },
    );
    const busy = (await (await platform(`/platform/organizations/${t.id}`, PLATFORM_READ_KEY)).json()) as Record<string, unknown>;
    expect(busy).toMatchObject({ status: "renaming", record_count: null, pending: { op: "rename" } });
    // An operation in progress: the operator's delete waits its turn, like the admin's.
    const refused = await platform(`/platform/organizations/${t.id}`, PLATFORM_WRITE_KEY, { method: "DELETE" });
    expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 409, body: { detail: ERRORS.ORGANIZATION_BUSY.message } });
  });

  it("lists the owners, then the admins, from the members, and counts every member", async () => {
    const t = await tenant();
    const admin = await join(t.token, "admin");
    await join(t.token, "member");
    const owner = await join(t.token, "owner");
    await join(t.token, "member");
    const res = await platform(`/platform/organizations/${t.id}`, PLATFORM_READ_KEY);
    expect(roundTrips(res)).toBe(2);
    const detail = (await res.json()) as { admins: { id: string; email: string; role: string }[]; member_count: number };
    const ownerId = (await organizations().findOne({ _id: ObjectId.createFromHexString(t.id) }))?.members;
    const firstOwner = Object.values(ownerId ?? {})
      .find((m) => m.email === t.email)
      ?.user_id.toHexString();
    const owners = [
      { id: firstOwner, email: t.email, role: "owner" },
      { id: owner.userId, email: owner.email, role: "owner" },
    ].sort((a, b) => (a.email.toLowerCase() < b.email.toLowerCase() ? -1 : 1));
    expect(detail.admins).toEqual([...owners, { id: admin.userId, email: admin.email, role: "admin" }]);
    expect(detail.member_count).toBe(5);
  });

  it("deletes with its members, their accounts, and its invitations, as an owner's delete does", async () => {
    const t = await tenant();
    const member = await join(t.token, "member");
    // An admin who also owns another organization keeps their account, for that one.
    const admin = await join(t.token, "admin");
    const elsewhere = uniqueName("Plat Elsewhere");
    expect((await postJson("/org/create", { organization_name: elsewhere }, bearer(admin.token))).status).toBe(200);
    const pending = await invite(t.token, `pending+${t.id}@example.com`);
    await suspend(t.id);
    const res = await callWith({}, `/platform/organizations/${t.id}`, { method: "DELETE", headers: operator(PLATFORM_WRITE_KEY) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { detail: "deleted" } });
    const orgId = ObjectId.createFromHexString(t.id);
    expect(await organizations().countDocuments({ _id: orgId })).toBe(0);
    // Accounts left in no organization closed: their e-mails are free and their logins 401.
    for (const who of [t, member]) expect((await postJson("/admin/login", { email: who.email, password: who.password })).status).toBe(401);
    expect(
      await store()
        .collection(USERS)
        .countDocuments({ email: { $in: [t.email, member.email] } }),
    ).toBe(0);
    // The admin's account stays, for the other organization only.
    expect(await store().collection(USERS).countDocuments({ org_ids: orgId })).toBe(0);
    expect((await postJson("/admin/login", { email: admin.email, password: admin.password })).status).toBe(200);
    // Its invitations went with it.
    expect(await store().collection(INVITATIONS).countDocuments({ org_id: orgId })).toBe(0);
    expect((await postJson("/invitations/accept", { token: pending.token, password: "Pending-1234" })).status).toBe(410);
    expect((await store().listCollections()).some((c) => c.name === collectionNameFor(slugify(t.name)))).toBe(false);
  });

  it("deletes a suspended organization with its collection and admin, and audits it", async () => {
    const t = await tenant();
    await suspend(t.id);
    const res = await callWith({}, `/platform/organizations/${t.id}`, { method: "DELETE", headers: operator(PLATFORM_WRITE_KEY) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { detail: "deleted" } });
    expect((await call(`/org/get?organization_name=${encodeURIComponent(t.name)}`)).status).toBe(404);
    expect((await store().listCollections()).some((c) => c.name === collectionNameFor(slugify(t.name)))).toBe(false);
    expect((await postJson("/admin/login", { email: t.email, password: t.password })).status).toBe(401);
    const [event] = await store().collection<AuditEvent & Record<string, unknown>>(AUDIT_LOG).find({ org_id: t.id, action: "platform.delete" });
    expect(event).toMatchObject({ key_id: "ops-write", organization_name: t.name, outcome: "success" });
  });

  it("counts organizations by status", async () => {
    const t = await tenant();
    await suspend(t.id);
    const stats = (await (await platform("/platform/stats", PLATFORM_READ_KEY)).json()) as {
      storage_bytes: number | null;
      organizations: { total: number; by_status: Record<string, number> };
    };
    expect(Object.keys(stats.organizations.by_status).sort()).toEqual([...PLATFORM_STATUSES].sort());
    // The embedded store tells its size at once; FerretDB with the test runs' thousands of collections may take longer than stats waits.
    if (env.DATA_API_URL) expect(stats.storage_bytes === null || stats.storage_bytes > 0).toBe(true);
    else expect(stats.storage_bytes).toBeGreaterThan(0);
    expect(stats.organizations.by_status.suspended).toBeGreaterThanOrEqual(1);
    expect(stats.organizations.total).toBeGreaterThanOrEqual(stats.organizations.by_status.active ?? 0);
  });
});

/** Organization documents written straight into the store: listing needs many, and creating each through the API costs a password hash. */
const seed = async (prefix: string, count: number, createdAt: (i: number) => Date) => {
  const docs = Array.from({ length: count }, (_, i) => {
    const name = `${prefix} ${String(i).padStart(4, "0")}`;
    const slug = slugify(name);
    const id = new ObjectId();
    const owner = new ObjectId();
    return {
      _id: id,
      organization_name: name,
      slug,
      collection_name: collectionNameFor(slug),
      status: "active",
      created_at: createdAt(i),
      updated_at: createdAt(i),
      members: {
        [owner.toHexString()]: {
          user_id: owner,
          email: `${slug}@example.com`,
          email_key: `${slug}@example.com`,
          role: "owner",
          token_version: 0,
          joined_at: createdAt(i),
        },
      },
      owner_count: 1,
    } as OrganizationDoc;
  });
  await store().call("insertMany", { documents: docs }, ORGANIZATIONS);
  return docs;
};

type Page = { organizations: { id: string; slug: string; created_at: string }[]; next_cursor: string | null };

const page = async (query: string): Promise<Page> => {
  const res = await platform(`/platform/organizations?${query}`, PLATFORM_READ_KEY);
  if (res.status !== 200) throw new Error(`list: ${res.status} ${await res.text()}`);
  return (await res.json()) as Page;
};

describe("listing", () => {
  it("searches by name or slug prefix, filters by status and pages in name order", async () => {
    const prefix = `lst${Math.random().toString(36).slice(2, 8)}`;
    const docs = await seed(prefix, 25, (i) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
    await organizations().updateOne({ _id: docs[3]?._id }, { $set: { suspended: true, suspension: { at: new Date(), reason: "t", by_key_id: "t" } } });
    await organizations().updateOne({ _id: docs[4]?._id }, { $set: { status: "renaming" } });
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const p: Page = await page(`query=${encodeURIComponent(`${prefix.toUpperCase()} 00`)}&limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      expect(p.organizations.length).toBeLessThanOrEqual(4);
      seen.push(...p.organizations.map((o) => o.slug));
      cursor = p.next_cursor;
    }
    expect(seen).toEqual(docs.map((d) => d.slug).sort());
    const suspended = await page(`query=${prefix}&status=suspended`);
    expect(suspended.organizations.map((o) => o.id)).toEqual([docs[3]?._id.toHexString()]);
    const active = await page(`query=${prefix}&status=active&limit=200`);
    expect(active.organizations).toHaveLength(23);
    const renaming = await page(`query=${prefix}&status=renaming`);
    expect(renaming.organizations.map((o) => o.id)).toEqual([docs[4]?._id.toHexString()]);
    const reversed = await page(`query=${prefix}&sort=-name&limit=3`);
    expect(reversed.organizations.map((o) => o.slug)).toEqual(
      docs
        .map((d) => d.slug)
        .sort()
        .reverse()
        .slice(0, 3),
    );
  });

  it("refuses what it cannot answer as asked, with a 422 saying why", async () => {
    for (const query of ["limit=0", "limit=201", "sort=size", "status=paused", "cursor=abc", "query=%21%21", "query=acme&sort=created_at"]) {
      const res = await platform(`/platform/organizations?${query}`, PLATFORM_READ_KEY);
      expect({ query, status: res.status }).toEqual({ query, status: 422 });
    }
    const first = await page("sort=created_at&limit=1");
    if (first.next_cursor) expect((await platform(`/platform/organizations?sort=name&cursor=${first.next_cursor}`, PLATFORM_READ_KEY)).status).toBe(422);
  });

  it("in creation order, returns each organization exactly once while others are created, renamed and deleted", async () => {
    // Far in the future, newest first: these are the first pages whatever else the store holds.
    const base = Date.UTC(2200, 0, 1) + Math.floor(Math.random() * 1e9) * 1000;
    const prefix = `cre${Math.random().toString(36).slice(2, 8)}`;
    // Ten share each instant: `_id` breaks the ties.
    const docs = await seed(prefix, 60, (i) => new Date(base + Math.floor(i / 10) * 1000));
    const deleted = new Set([5, 17, 33, 48].map((i) => docs[i]?._id.toHexString()));
    const counts = new Map<string, number>();
    let cursor: string | null = "";
    let turn = 0;
    try {
      while (cursor !== null) {
        const p: Page = await page(`sort=-created_at&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
        for (const o of p.organizations) counts.set(o.id, (counts.get(o.id) ?? 0) + 1);
        cursor = p.organizations.some((o) => Date.parse(o.created_at) < base) ? null : p.next_cursor;
        // Between pages: a create inside the range, a rename, a delete.
        turn++;
        await seed(`${prefix}new${turn}`, 1, () => new Date(base + (turn % 6) * 1000 + 500));
        const renamed = docs[(turn * 7) % 60];
        if (renamed)
          await organizations().updateOne(
            { _id: renamed._id },
            { $set: { slug: `${prefix}_renamed_${turn}`, organization_name: `${prefix} renamed ${turn}` } },
          );
        const gone = [...deleted][turn - 1];
        if (gone) await organizations().deleteOne({ _id: ObjectId.createFromHexString(gone) });
      }
      for (const doc of docs) {
        const id = doc._id.toHexString();
        if (deleted.has(id)) expect(counts.get(id) ?? 0).toBeLessThanOrEqual(1);
        else expect({ id, seen: counts.get(id) }).toEqual({ id, seen: 1 });
      }
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await organizations().deleteMany({ slug: { $regex: `^${prefix}` } });
    }
  });

  it("in name order, returns each organization whose name does not change exactly once while others are created, renamed and deleted", async () => {
    const prefix = `nam${Math.random().toString(36).slice(2, 8)}`;
    const docs = await seed(prefix, 50, () => new Date());
    const deleted = new Set([2, 21, 40].map((i) => docs[i]?._id.toHexString()));
    const renamed = new Set<string>();
    const counts = new Map<string, number>();
    let cursor: string | null = "";
    let turn = 0;
    while (cursor !== null) {
      const p: Page = await page(`query=${prefix}&limit=6${cursor ? `&cursor=${cursor}` : ""}`);
      for (const o of p.organizations) counts.set(o.id, (counts.get(o.id) ?? 0) + 1);
      cursor = p.next_cursor;
      turn++;
      await seed(`${prefix} ${String(turn * 5).padStart(4, "0")} new`, 1, () => new Date());
      // Renames that move an organization both ahead of the cursor and behind it.
      const moved = docs[(turn * 11) % 50];
      if (moved && !deleted.has(moved._id.toHexString())) {
        renamed.add(moved._id.toHexString());
        const slug = turn % 2 ? `${prefix}_0000_${turn}` : `${prefix}_9999_${turn}`;
        await organizations().updateOne({ _id: moved._id }, { $set: { slug, organization_name: slug } });
      }
      const gone = [...deleted][turn - 1];
      if (gone) await organizations().deleteOne({ _id: ObjectId.createFromHexString(gone) });
    }
    for (const doc of docs) {
      const id = doc._id.toHexString();
      if (deleted.has(id)) expect(counts.get(id) ?? 0).toBeLessThanOrEqual(1);
      else if (renamed.has(id)) expect(counts.get(id) ?? 0).toBeLessThanOrEqual(2);
      else expect({ id, seen: counts.get(id) }).toEqual({ id, seen: 1 });
    }
  });

  it.skipIf(Boolean(env.DATA_API_URL))("every page is read from an index on the embedded store, for every sort and status filter", async () => {
    const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(parseSettings(env).data.database));
    const cursors = { name: { slug: "m" }, created_at: { createdAt: Date.UTC(2026, 0, 1) } };
    for (const sort of PLATFORM_SORTS) {
      for (const status of [undefined, ...PLATFORM_STATUSES]) {
        for (const withCursor of [false, true]) {
          const cursor = withCursor ? { sort, id: new ObjectId(), ...(sort.endsWith("name") ? cursors.name : cursors.created_at) } : undefined;
          const { filter, sort: order } = pageQuery({ sort, status, limit: 10, cursor, query: sort.endsWith("name") ? "acme" : undefined });
          const index = await runInDurableObject(
            stub,
            (_instance, state) =>
              orderedIndexFor(state.storage.sql, { database: parseSettings(env).data.database, collection: ORGANIZATIONS }, order, filter)?.idx,
          );
          // The status filter's own index, so no page reads past organizations of other statuses.
          const expected = `${status === undefined ? "" : status === "suspended" ? "suspended_" : "status_"}${sort.endsWith("name") ? "slug" : "created"}`;
          expect({ sort, status, withCursor, index }).toEqual({
            sort,
            status,
            withCursor,
            index: status === undefined && sort.endsWith("name") ? "slug_unique" : expected,
          });
        }
      }
    }
  });
});

import { ObjectId } from "bson";
import { describe, expect, inject, it } from "vitest";
import { changePassword, login } from "../../src/domain/auth/auth";
import { EVENTS, type EventDoc, type EventView, organizationEvents, publishEvents } from "../../src/domain/events/outbox";
import { acceptInvitation } from "../../src/domain/invitations/accept";
import { createInvitation, INVITATIONS, type InvitationDoc, revokeInvitation } from "../../src/domain/invitations/invitations";
import type { Deps } from "../../src/domain/kernel/deps";
import { ERRORS } from "../../src/domain/kernel/errors";
import { ORGANIZATION_INDEXES, type OrganizationDoc } from "../../src/domain/kernel/model";
import { collectionNameFor, slugify } from "../../src/domain/kernel/slug";
import { changeRole } from "../../src/domain/members/members";
import { createOrganization, deleteOrganization, renameOrganization } from "../../src/domain/organizations/lifecycle";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { dispatchOrganization } from "../../src/domain/webhooks/dispatch";
import { createWebhook, deleteWebhook, WEBHOOKS, type WebhookDoc } from "../../src/domain/webhooks/endpoints";
import {
  bearer,
  call,
  createOrg,
  env,
  invite,
  join,
  loginToken,
  operator,
  ownerOf,
  PLATFORM_WRITE_KEY,
  patchJson,
  postJson,
  putJson,
  roundTrips,
  storeClient,
  uniqueName,
  useOwnDatabase,
} from "../helpers";
import { depsFor, type Fault, faults, freshDatabase } from "./faults";

/**
 * The organization's event feed (issue: events and webhooks, the pull half): an event for every
 * change, recorded with it, listed once and in order, and nothing for a change that did not happen.
 */
useOwnDatabase("events");

interface Page {
  events: EventView[];
  next_cursor: string;
  has_more: boolean;
}

const feed = async (token: string, query = ""): Promise<Page> => {
  const res = await call(`/org/events${query ? `?${query}` : ""}`, { headers: bearer(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page;
};

/** Every event, page after page of `limit`, following `next_cursor`. */
const everything = async (token: string, limit = 100): Promise<EventView[]> => {
  const all: EventView[] = [];
  let after = "0";
  for (;;) {
    const page = await feed(token, `limit=${limit}&after=${after}`);
    all.push(...page.events);
    after = page.next_cursor;
    if (!page.has_more) return all;
  }
};

const claims = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { org_id: string; admin_id: string };
const store = () => storeClient(env.DATABASE ?? "master_db");

describe("the feed over the API", () => {
  it("lists every change once, in the order made, with its actor and data", async () => {
    const org = await createOrg();
    let token = await loginToken(org.email, org.password);
    const { org_id: orgId, admin_id: ownerId } = claims(token);
    const renamed = uniqueName("Evented");
    expect((await putJson("/org/update", { organization_name: org.name, new_organization_name: renamed }, bearer(token))).status).toBe(200);
    // A rename that only changes the spelling: the slug and collection stay, the event is the same kind.
    expect((await putJson("/org/update", { organization_name: renamed, new_organization_name: renamed.toUpperCase() }, bearer(token))).status).toBe(200);
    token = await loginToken(org.email, org.password);
    const member = await join(token);
    expect((await patchJson(`/org/members/${member.userId}`, { role: "admin" }, bearer(token))).status).toBe(200);
    expect((await call(`/org/members/${member.userId}`, { method: "DELETE", headers: bearer(token) })).status).toBe(200);
    const suspend = await call(`/platform/organizations/${orgId}/suspend`, {
      method: "POST",
      headers: { ...operator(PLATFORM_WRITE_KEY), "content-type": "application/json" },
      body: JSON.stringify({ reason: "unpaid" }),
    });
    expect(suspend.status).toBe(200);
    // Reactivating twice: the second changes nothing and records nothing.
    for (let i = 0; i < 2; i++) {
      expect((await call(`/platform/organizations/${orgId}/reactivate`, { method: "POST", headers: operator(PLATFORM_WRITE_KEY) })).status).toBe(200);
    }

    const events = await everything(token);
    expect(events.map((e) => e.type)).toEqual([
      "organization.created",
      "organization.renamed",
      "organization.renamed",
      "invitation.created",
      "member.joined",
      "member.role_changed",
      "member.removed",
      "organization.suspended",
      "organization.reactivated",
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const cursors = events.map((e) => Number(e.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(events.every((e) => e.organization_id === orgId)).toBe(true);
    const [created, firstRename, , , joined, changed, removed, suspended] = events;
    expect(created?.actor).toEqual({ type: "user", id: ownerId });
    expect(created?.data).toEqual({ organization_name: org.name, collection_name: org.body.collection_name });
    expect(firstRename?.data).toMatchObject({ from: org.name, to: renamed });
    expect(joined?.data).toMatchObject({ user_id: member.userId, email: member.email, role: "member" });
    expect(joined?.actor).toEqual({ type: "user", id: member.userId });
    expect(changed?.data).toEqual({ user_id: member.userId, role: "admin", roles: ["admin"] });
    expect(removed?.data).toEqual({ user_id: member.userId });
    expect(suspended?.actor).toMatchObject({ type: "operator" });
    expect(suspended?.data).toEqual({ reason: "unpaid" });

    // Page by page: the same events, each once.
    expect((await everything(token, 3)).map((e) => e.id)).toEqual(events.map((e) => e.id));
    // Polling at the end: nothing new, and the same place to resume from.
    const end = await feed(token, `after=${events.at(-1)?.cursor}`);
    expect(end).toEqual({ events: [], next_cursor: events.at(-1)?.cursor, has_more: false });
    // Only some types: in order, and the cursor still moves past the others.
    const members = await feed(token, "type=member.joined,member.removed");
    expect(members.events.map((e) => e.type)).toEqual(["member.joined", "member.removed"]);
    expect(members.next_cursor).toBe(events.at(-1)?.cursor);
  });

  it("invitations, password changes and failed logins are in the feed of every organization they concern", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const invited = await invite(token, "invitee@example.com", "admin");
    const revokedRes = await call(`/org/invitations/${invited.id}`, { method: "DELETE", headers: bearer(token) });
    expect(revokedRes.status).toBe(200);
    // The owner has a second organization: a password change and a failed login concern both.
    const second = await postJson("/org/create", { organization_name: uniqueName("Second") }, bearer(token));
    expect(second.status).toBe(200);
    const failed = await postJson("/admin/login", { email: org.email, password: "not-the-password", organization_name: org.name });
    expect(failed.status).toBe(401);
    const changed = await postJson("/admin/password", { current_password: org.password, new_password: "Brand-new-9" }, bearer(token));
    expect(changed.status).toBe(200);
    const fresh = ((await changed.json()) as { access_token: string }).access_token;
    const events = await everything(fresh);
    expect(events.map((e) => e.type)).toEqual([
      "organization.created",
      "invitation.created",
      "invitation.revoked",
      "admin.login_failed",
      "admin.password_changed",
    ]);
    const [, created, revoked, loginFailed, password] = events;
    expect(created?.data).toMatchObject({ invitation_id: invited.id, email: "invitee@example.com", role: "admin" });
    expect(revoked?.data).toEqual({ invitation_id: invited.id });
    expect(loginFailed?.actor).toEqual({ type: "anonymous" });
    expect(loginFailed?.data).toEqual({ user_id: claims(token).admin_id, email: org.email });
    const secondToken = (
      (await (
        await postJson("/auth/switch", { organization_name: ((await second.json()) as { organization_name: string }).organization_name }, bearer(fresh))
      ).json()) as { access_token: string }
    ).access_token;
    const inSecond = await everything(secondToken);
    expect(inSecond.map((e) => e.type)).toEqual(["organization.created", "admin.login_failed", "admin.password_changed"]);
    // One change, one event id, in each organization's feed.
    expect(inSecond.at(-1)?.id).toBe(password?.id);
  });

  it("the failure that locks an account records that it is locked", async () => {
    const org = await createOrg();
    for (let i = 0; i < 10; i++) {
      expect((await postJson("/admin/login", { email: org.email, password: `wrong-${i}` }, { "cf-connecting-ip": "198.51.100.7" })).status).toBe(401);
    }
    const orgId = (await store().collection<OrganizationDoc>("organizations").findOne({ organization_name: org.name }))?._id as ObjectId;
    const docs = await store()
      .collection<EventDoc>(EVENTS)
      .find({ org_id: orgId }, { sort: { seq: 1 } });
    const waiting = (await store().collection<OrganizationDoc>("organizations").findOne({ _id: orgId }))?.outbox ?? [];
    const types = [...docs.map((d) => d.type), ...waiting.map((e) => e.type)];
    expect(types.filter((t) => t === "admin.login_failed")).toHaveLength(10);
    expect(types.filter((t) => t === "admin.locked")).toHaveLength(1);
    expect(types.at(-1)).toBe("admin.locked");
  });

  it("a change that is refused, or undone, records nothing", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const other = await createOrg();
    const before = await everything(token);
    // The last owner cannot leave; a name taken; a member that is not one; a rename whose collection exists already.
    expect((await postJson("/org/leave", {}, bearer(token))).status).toBe(409);
    expect((await putJson("/org/update", { organization_name: org.name, new_organization_name: other.name }, bearer(token))).status).toBe(409);
    expect((await patchJson(`/org/members/${new ObjectId().toHexString()}`, { role: "admin" }, bearer(token))).status).toBe(404);
    const blocked = uniqueName("Blocked");
    await store()
      .collection(collectionNameFor(slugify(blocked)))
      .create();
    const undone = await putJson("/org/update", { organization_name: org.name, new_organization_name: blocked }, bearer(token));
    expect(undone.status).toBe(409);
    expect(await undone.json()).toEqual({ detail: ERRORS.COLLECTION_EXISTS.message });
    expect(await everything(token)).toEqual(before);
  });

  it("is for members who may read the audit trail, and refuses a cursor it never gave", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const member = await join(token);
    const refused = await call("/org/events", { headers: bearer(member.token) });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ detail: ERRORS.PERMISSION_DENIED.message });
    const admin = await join(token, "admin");
    expect((await call("/org/events", { headers: bearer(admin.token) })).status).toBe(200);
    for (const query of ["after=abc", "after=-1", "after=01", "type=organization.exploded", "limit=0", "limit=201"]) {
      expect((await call(`/org/events?${query}`, { headers: bearer(token) })).status, query).toBe(422);
    }
    const beyond = await call("/org/events?after=99999", { headers: bearer(token) });
    expect(beyond.status).toBe(422);
    expect(await beyond.json()).toEqual({ detail: ERRORS.EVENT_CURSOR_INVALID.message });
  });

  it("reads the organization and, past the outbox, the published events: two round trips at most", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const all = await call("/org/events", { headers: bearer(token) });
    expect(roundTrips(all)).toBe(2);
    const last = ((await all.json()) as Page).next_cursor;
    expect(roundTrips(await call(`/org/events?after=${last}`, { headers: bearer(token) }))).toBe(1);
  });

  it("a deleted organization leaves no event behind", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    await join(token);
    const orgId = ObjectId.createFromHexString(claims(token).org_id);
    expect(await store().collection(EVENTS).countDocuments({ org_id: orgId })).toBeGreaterThan(0);
    expect((await call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, { method: "DELETE", headers: bearer(token) })).status).toBe(200);
    expect(await store().collection(EVENTS).countDocuments({ org_id: orgId })).toBe(0);
  });
});

/** Deps whose after-answer work never runs: the Worker stopped right after answering. */
const stoppedAfterAnswer = (database: string): Deps => ({ ...depsFor(database), background: () => {} });

const setUp = async (name: string) => {
  const database = freshDatabase();
  const healthy = depsFor(database);
  await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
  await createOrganization(stoppedAfterAnswer(database), { organization_name: name, email: `owner@${name.toLowerCase()}.example.com`, password: "Test1234" });
  const org = (await healthy.organizations.findOne({ slug: name.toLowerCase() })) as OrganizationDoc;
  return { database, healthy, owner: ownerOf(org) };
};

const published = (deps: Deps, orgId: ObjectId) => deps.data.collection<EventDoc>(EVENTS).find({ org_id: orgId }, { sort: { seq: 1 } });

describe("the outbox and its publisher", () => {
  it("an event is in the feed from its change on, published or not, and publishing does not change the feed", async () => {
    const { database, healthy, owner } = await setUp("Unpublished");
    await renameOrganization(
      stoppedAfterAnswer(database),
      { organization_name: "Unpublished", new_organization_name: "Still" },
      { kind: "token", principal: owner },
    );
    const waiting = await organizationEvents(healthy, owner, { limit: 50 });
    expect(waiting.events.map((e) => e.type)).toEqual(["organization.created", "organization.renamed"]);
    expect(await published(healthy, owner.orgId)).toEqual([]);
    // The reconciler publishes what a stopped Worker left.
    expect(await reconcile(healthy, new Date(Date.now() + 60_000))).toMatchObject({ events: 1 });
    expect(await published(healthy, owner.orgId)).toHaveLength(2);
    expect((await healthy.organizations.findOne({ _id: owner.orgId }))?.outbox).toEqual([]);
    expect(await organizationEvents(healthy, owner, { limit: 50 })).toEqual(waiting);
  });

  // Take the lease and read the outbox, insert the events, move the count on.
  it.each(faults(3))("a publisher cut off at call $failAt ($mode) loses, invents and repeats nothing", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Cutoff");
    const before = await organizationEvents(healthy, owner, { limit: 50 });
    await expect(publishEvents(depsFor(database, fault), owner.orgId)).rejects.toThrow();
    expect(await organizationEvents(healthy, owner, { limit: 50 })).toEqual(before);
    // A publisher that died holds its lease until it expires; the next one takes a lease of its own.
    await publishEvents(healthy, owner.orgId);
    expect(await organizationEvents(healthy, owner, { limit: 50 })).toEqual(before);
    const docs = await published(healthy, owner.orgId);
    expect(docs.map((d) => d.id)).toEqual(before.events.map((e) => e.id));
    expect((await healthy.organizations.findOne({ _id: owner.orgId }))?.event_seq).toBe(1);
  });

  it("a publisher that read the outbox before others published it changes nothing when it resumes", async () => {
    const { database, healthy, owner } = await setUp("Stale");
    const stopped = stoppedAfterAnswer(database);
    let resume: (value?: unknown) => void = () => {};
    const until = new Promise((resolve) => {
      resume = resolve;
    });
    // Paused before its last call, the update that moves the count on.
    const stale = publishEvents(depsFor(database, undefined, { at: 3, until }), owner.orgId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publishEvents(healthy, owner.orgId);
    await renameOrganization(stopped, { organization_name: "Stale", new_organization_name: "Stale Two" }, { kind: "token", principal: owner });
    await publishEvents(healthy, owner.orgId);
    resume();
    await stale;
    await renameOrganization(stopped, { organization_name: "Stale Two", new_organization_name: "Stale Three" }, { kind: "token", principal: owner });
    await publishEvents(healthy, owner.orgId);
    const { events } = await organizationEvents(healthy, owner, { limit: 50 });
    expect(events.map((e) => [e.type, e.cursor])).toEqual([
      ["organization.created", "1"],
      ["organization.renamed", "2"],
      ["organization.renamed", "3"],
    ]);
    expect((await published(healthy, owner.orgId)).map((d) => d.seq)).toEqual([1, 2, 3]);
  });

  it("many changes and publishers at once: each change that happened is listed once, in the order of the feed's numbers", async () => {
    const { database, healthy, owner } = await setUp("Crowded");
    const stopped = stoppedAfterAnswer(database);
    // Ten role changes of one member raced against each other and against publishers.
    const { userId } = await (async () => {
      const { token } = await createInvitation(stopped, owner, { email: "crowd@example.com", role: "member" });
      await acceptInvitation(stopped, { token, password: "Member-1234" });
      const org = (await healthy.organizations.findOne({ _id: owner.orgId })) as OrganizationDoc;
      const member = Object.values(org.members).find((m) => m.email === "crowd@example.com");
      return { userId: member?.user_id as ObjectId };
    })();
    const roles = ["admin", "member"] as const;
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => changeRole(stopped, owner, userId, roles[i % 2] as "admin" | "member")),
      ...Array.from({ length: 4 }, () => publishEvents(healthy, owner.orgId)),
    ]);
    const changed = outcomes.slice(0, 10).filter((o) => o.status === "fulfilled").length;
    for (let i = 0; i < 3; i++) await publishEvents(healthy, owner.orgId);
    const { events } = await organizationEvents(healthy, owner, { limit: 200 });
    expect(events.filter((e) => e.type === "member.role_changed")).toHaveLength(changed);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.map((e) => Number(e.cursor))).toEqual(events.map((_, i) => i + 1));
    const docs = await published(healthy, owner.orgId);
    expect(docs.map((d) => d.id)).toEqual(events.map((e) => e.id));
  });

  it("a delete raced with a publisher leaves no event behind", async () => {
    const { database, healthy, owner } = await setUp("Racing");
    const deletes = deleteOrganization(healthy, "Racing", owner);
    await Promise.all([deletes, publishEvents(depsFor(database), owner.orgId)]);
    expect(await published(healthy, owner.orgId)).toEqual([]);
  });
});

/** Deps whose clock runs ahead: the reconciler, once no request can still be relaying. */
const later = (database: string): Deps => ({ ...depsFor(database), now: () => new Date(Date.now() + 120_000) });
/** Whatever a request relayed before it stopped is published first, so the reconciler must find it published, not only in an outbox. */
const settleAll = async (database: string, orgId: ObjectId) => {
  await publishEvents(depsFor(database), orgId);
  return reconcile(later(database), new Date(Date.now() + 120_000));
};
/** The feed's types, after checking it numbers its events without a gap: a gap is an event published twice (the second copy dropped). */
const typesOf = async (deps: Deps, principal: Parameters<typeof organizationEvents>[1]) => {
  const { events, next_cursor } = await organizationEvents(deps, principal, { limit: 200 });
  expect(events.map((e) => Number(e.cursor))).toEqual(events.map((_, i) => i + 1));
  expect(Number(next_cursor)).toBe(events.length);
  return events.map((e) => e.type);
};

describe("events carried on another document survive a failure at every step", () => {
  // The lease, the insert carrying the event, the relay.
  it.each(faults(3))("an invitation cut off at call $failAt ($mode): its event iff it exists, once", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Inviting");
    await expect(createInvitation(depsFor(database, fault), owner, { email: "guest@example.com", role: "member" })).rejects.toThrow();
    await settleAll(database, owner.orgId);
    const exists = (await healthy.data.collection(INVITATIONS).countDocuments({ email_key: "guest@example.com" })) > 0;
    const types = await typesOf(healthy, owner);
    expect(types.filter((t) => t === "invitation.created")).toHaveLength(exists ? 1 : 0);
    expect((await healthy.data.collection<InvitationDoc>(INVITATIONS).findOne({}))?.carried ?? []).toEqual([]);
  });

  // The lease, the mark carrying the event, the relay, the removal.
  it.each(faults(4))("a revoke cut off at call $failAt ($mode): revoked with its event, or not at all", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Revoking");
    const invitation = await createInvitation(healthy, owner, { email: "guest@example.com", role: "member" });
    await expect(revokeInvitation(depsFor(database, fault), owner, ObjectId.createFromHexString(invitation.id))).rejects.toThrow();
    await settleAll(database, owner.orgId);
    const left = await healthy.data.collection<InvitationDoc>(INVITATIONS).findOne({ email_key: "guest@example.com" });
    const types = await typesOf(healthy, owner);
    expect(types.filter((t) => t === "invitation.revoked")).toHaveLength(left ? 0 : 1);
    if (left) expect(left.revoked).toBeUndefined();
  });

  // Read the organization, count the attempt, revoke the tokens, change the hash carrying the event, relay.
  it.each(faults(5))("a password change cut off at call $failAt ($mode): its event iff the password changed, once", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Rekeyed");
    await expect(changePassword(depsFor(database, fault), owner, "Test1234", "Brand-new-9")).rejects.toThrow();
    await settleAll(database, owner.orgId);
    const changed = await login(healthy, "owner@rekeyed.example.com", "Brand-new-9").then(
      () => true,
      () => false,
    );
    const settled = (await healthy.organizations.findOne({ _id: owner.orgId })) as OrganizationDoc;
    const types = await typesOf(healthy, ownerOf(settled));
    expect(types.filter((t) => t === "admin.password_changed")).toHaveLength(changed ? 1 : 0);
  });
});

describe("webhook endpoints and deliveries survive a failure at every step", () => {
  // The suites' loopback receiver, which answers this unknown name 404 at once: no delivery leaves the machine.
  const URL = `${inject("receiverUrl")}/hooks/org-events-unregistered`;

  // The lease, the count of endpoints, the insert carrying the event, the relay.
  it.each(faults(4))("a registration cut off at call $failAt ($mode): its event iff the endpoint exists, once", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Hooking");
    await expect(createWebhook(depsFor(database, fault), owner, { url: URL })).rejects.toThrow();
    await settleAll(database, owner.orgId);
    const exists = (await healthy.data.collection(WEBHOOKS).countDocuments({ org_id: owner.orgId })) > 0;
    expect((await typesOf(healthy, owner)).filter((t) => t === "webhook.created")).toHaveLength(exists ? 1 : 0);
  });

  // The lease, the mark carrying the event, the relay, the removal.
  it.each(faults(4))("a deletion cut off at call $failAt ($mode): deleted with its event, or not at all", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Unhooking");
    const hook = await createWebhook(healthy, owner, { url: URL });
    await expect(deleteWebhook(depsFor(database, fault), owner, ObjectId.createFromHexString(hook.id))).rejects.toThrow();
    await settleAll(database, owner.orgId);
    const left = await healthy.data.collection<WebhookDoc>(WEBHOOKS).findOne({ org_id: owner.orgId });
    expect((await typesOf(healthy, owner)).filter((t) => t === "webhook.deleted")).toHaveLength(left ? 0 : 1);
    if (left) expect(left.deleted).toBeUndefined();
  });

  // Find the endpoints, the next event, log the attempt, move the cursor, and so on for the next events.
  it.each(faults(9))("a dispatcher cut off at call $failAt ($mode): every event still arrives, in order, repeated only back to back", async (fault: Fault) => {
    const { database, healthy, owner } = await setUp("Dispatched");
    await createWebhook(healthy, owner, { url: URL });
    await renameOrganization(healthy, { organization_name: "Dispatched", new_organization_name: "Dispatched Two" }, { kind: "token", principal: owner });
    await renameOrganization(healthy, { organization_name: "Dispatched Two", new_organization_name: "Dispatched Three" }, { kind: "token", principal: owner });
    await publishEvents(healthy, owner.orgId);
    const arrived: string[] = [];
    // An endpoint that accepts everything, called in-process: what is under test is the order and the cursor.
    const http = {
      fetch: async (_url: string, init: RequestInit) => {
        arrived.push(new Headers(init.headers).get("webhook-id") ?? "");
        return new Response(null, { status: 204 });
      },
    };
    await dispatchOrganization(depsFor(database, fault), http, owner.orgId).catch(() => {});
    for (let run = 0; run < 5; run++) await dispatchOrganization(healthy, http, owner.orgId);
    const { events } = await organizationEvents(healthy, owner, { limit: 50 });
    const owed = events.slice(events.findIndex((e) => e.type === "webhook.created")).map((e) => e.id);
    expect(owed).toHaveLength(3);
    const distinct = arrived.filter((id, i) => id !== arrived[i - 1]);
    expect(distinct).toEqual(owed);
  });
});

import { env } from "cloudflare:workers";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import type { Fetcher } from "../../src/data/client";
import { type AccountDoc, attemptKey, hasAccount, USERS } from "../../src/domain/accounts/accounts";
import { createInvitation, INVITATIONS, type InvitationDoc, revokeInvitation } from "../../src/domain/invitations/invitations";
import type { Deps } from "../../src/domain/kernel/deps";
import { ERRORS } from "../../src/domain/kernel/errors";
import { CLOCK_SKEW_MS } from "../../src/domain/kernel/leases";
import { type MemberRecord, ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { can, type Permission, type Role } from "../../src/domain/kernel/roles";
import { createOrganization, deleteOrganization, renameOrganization } from "../../src/domain/organizations/lifecycle";
import { suspendOrganization } from "../../src/domain/platform/suspension";
import { createRecord } from "../../src/domain/records/records";
import {
  bearer,
  call,
  callWith,
  createOrg,
  invite,
  join,
  loginToken,
  operator,
  ownerOf,
  PLATFORM_WRITE_KEY,
  patchJson,
  postJson,
  putJson,
  storeClient,
  uniqueName,
} from "../helpers";

/**
 * The tenant-data invariant under concurrency, on whichever store the Worker is configured with:
 * a record write answered 2xx is in its organization's collection once every lifecycle operation
 * has settled; after a delete answered 200 none of that organization's records exist anywhere; a
 * collection name an organization left never reappears; a new organization never meets leftovers.
 */

const WRITERS = 16;

/** Every collection of the master database and the records in it that belong to `orgId`. */
const recordsOfOrg = async (orgId: string) => {
  const data = storeClient(parseSettings(env).data.database);
  const found: { collection: string; id: string }[] = [];
  for (const { name } of await data.listCollections()) {
    if (!name.startsWith("org_")) continue;
    const docs = await data.collection(name).find({ org_id: new ObjectId(orgId) }, { projection: { _id: 1 }, limit: 50_000 });
    found.push(...docs.map((d) => ({ collection: name, id: (d._id as ObjectId).toHexString() })));
  }
  return found;
};

/** One line per race for the record: how many writes were acknowledged, lost and left behind. */
const report = (race: string, figures: { acknowledged: number; lost: number; leftovers: number; statuses: Map<number, number> }) =>
  console.info(
    `race ${race}: store=${env.DATA_API_URL ? "gateway" : "embedded"} writers=${WRITERS} acknowledged=${figures.acknowledged} lost=${figures.lost} leftovers=${figures.leftovers} statuses=${JSON.stringify(Object.fromEntries(figures.statuses))}`,
  );

const collectionExists = async (name: string) => {
  const data = storeClient(parseSettings(env).data.database);
  return (await data.listCollections({ name })).length > 0;
};

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const deferred = () => {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/**
 * Writers that POST records until stopped, keeping the id of every 201. A writer refused with 409
 * (an operation in progress) waits for `resume()`, as a client honouring Retry-After would; one
 * refused with 401 (its organization is gone), or another status of `stopOn`, stops. Nothing here waits on a timer: in the test
 * runtime a timer does not fire while requests keep the isolate busy.
 */
const startWriters = (token: string, maxEach = 150, stopOn: number[] = [401]) => {
  const acknowledged: string[] = [];
  const statuses = new Map<number, number>();
  let stopped = false;
  let gate = deferred();
  const waiters: { count: number; resolve: () => void }[] = [];
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; !stopped && i < maxEach; i++) {
      const res = await postJson("/org/records", { writer: w, i }, { authorization: `Bearer ${token}` });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 201) {
        acknowledged.push(((await res.json()) as { id: string }).id);
        for (const waiter of waiters.filter((x) => acknowledged.length >= x.count)) waiter.resolve();
        continue;
      }
      await res.body?.cancel();
      if (stopOn.includes(res.status)) return;
      expect(res.status).toBe(409);
      await gate.promise;
    }
  });
  return {
    acknowledged,
    statuses,
    /** Resolves once `more` further writes have been acknowledged (or the writers ran out). */
    reached: (more: number) => {
      const { promise, resolve } = deferred();
      waiters.push({ count: acknowledged.length + more, resolve });
      return Promise.race([promise, Promise.all(loops)]);
    },
    /** Lets the writers refused meanwhile go on. */
    resume: () => {
      const open = gate;
      gate = deferred();
      open.resolve();
    },
    stop: async () => {
      stopped = true;
      gate.resolve();
      await Promise.all(loops);
    },
  };
};

const orgIdOf = async (slugName: string): Promise<string> => {
  const data = storeClient(parseSettings(env).data.database);
  const org = await data.collection<OrganizationDoc>(ORGANIZATIONS).findOne({ collection_name: slugName });
  if (!org) throw new Error(`no organization owns ${slugName}`);
  return org._id.toHexString();
};

/** A new organization with its admin's token, as the races need them. */
const signedIn = async (name: string) => {
  const org = await createOrg(name);
  return { ...org, token: await loginToken(org.email, org.password) };
};

const deleteOrg = (name: string, token: string) =>
  call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });

const allRecordIds = async (token: string): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(`/org/records?limit=200${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: { id: string }[]; next_cursor: string | null };
    ids.push(...page.records.map((r) => r.id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
};

// Hundreds of requests each: through the gateway on FerretDB, whose writes are serialised, a race takes longer than the default 30 s.
describe("record writers racing the lifecycle, through the front door", { timeout: 120_000 }, () => {
  it("renames while 16 writers insert: every acknowledged record is in the organization's collection", async () => {
    const org = await signedIn(uniqueName("Race Rename"));
    const { token } = org;
    const names = [org.name, uniqueName("Race Renamed"), uniqueName("Race Again")];
    const left: string[] = [];
    const writers = startWriters(token);
    for (let round = 1; round < names.length; round++) {
      await writers.reached(WRITERS * 2);
      const res = await putJson(
        "/org/update",
        { organization_name: names[round - 1], new_organization_name: names[round] },
        { authorization: `Bearer ${token}` },
      );
      expect(res.status).toBe(200);
      left.push(((await res.json()) as { collection_name: string }).collection_name);
      writers.resume();
    }
    await writers.reached(WRITERS * 2);
    await writers.stop();
    const final = left.at(-1) as string;
    expect(writers.acknowledged.length).toBeGreaterThan(0);
    const stored = new Set(await allRecordIds(token));
    const lost = writers.acknowledged.filter((id) => !stored.has(id));
    // Nothing of the organization outside its collection, and the names it left are gone.
    const orgId = await orgIdOf(final);
    const leftovers = (await recordsOfOrg(orgId)).filter((r) => r.collection !== final);
    report("rename", { acknowledged: writers.acknowledged.length, lost: lost.length, leftovers: leftovers.length, statuses: writers.statuses });
    expect(lost).toEqual([]);
    expect(leftovers).toEqual([]);
    for (const name of [org.body.collection_name, ...left.slice(0, -1)]) expect(await collectionExists(name)).toBe(false);
  });

  it("deletes while 16 writers insert: nothing of the organization is left anywhere", async () => {
    const org = await signedIn(uniqueName("Race Delete"));
    const { token } = org;
    const orgId = await orgIdOf(org.body.collection_name);
    const writers = startWriters(token);
    await writers.reached(WRITERS * 2);
    const res = await deleteOrg(org.name, token);
    expect(res.status).toBe(200);
    // Writers go on after the answer: none of them may bring the collection back.
    writers.resume();
    await writers.stop();
    const leftovers = await recordsOfOrg(orgId);
    report("delete", { acknowledged: writers.acknowledged.length, lost: 0, leftovers: leftovers.length, statuses: writers.statuses });
    expect(writers.acknowledged.length).toBeGreaterThan(0);
    expect(writers.statuses.get(401)).toBeGreaterThan(0);
    expect(await collectionExists(org.body.collection_name)).toBe(false);
    expect(leftovers).toEqual([]);
  });

  it("deletes and re-creates the name while the old token's writers run: the new organization starts empty and the name is usable", async () => {
    const org = await signedIn(uniqueName("Race Reuse"));
    const { token } = org;
    const oldId = await orgIdOf(org.body.collection_name);
    const writers = startWriters(token);
    await writers.reached(WRITERS * 2);
    const del = await deleteOrg(org.name, token);
    expect(del.status).toBe(200);
    const { token: newToken } = await signedIn(org.name);
    writers.resume();
    await writers.stop();
    const leftovers = await recordsOfOrg(oldId);
    report("delete-recreate", { acknowledged: writers.acknowledged.length, lost: 0, leftovers: leftovers.length, statuses: writers.statuses });
    expect(leftovers).toEqual([]);
    expect(await allRecordIds(newToken)).toEqual([]);
    // The same holds when the name is reached by a rename: delete the new one, rename another onto the name.
    const del2 = await deleteOrg(org.name, newToken);
    expect(del2.status).toBe(200);
    const other = await signedIn(uniqueName("Race Other"));
    const otherToken = other.token;
    const moved = await putJson("/org/update", { organization_name: other.name, new_organization_name: org.name }, { authorization: `Bearer ${otherToken}` });
    expect(moved.status).toBe(200);
    expect(await allRecordIds(otherToken)).toEqual([]);
  });
});

const suspendOrg = (orgId: string) =>
  callWith({}, `/platform/organizations/${orgId}/suspend`, {
    method: "POST",
    headers: { ...operator(PLATFORM_WRITE_KEY), "content-type": "application/json" },
    body: JSON.stringify({ reason: "race" }),
  });

describe("the operator's suspension racing writers and the lifecycle, through the front door", { timeout: 120_000 }, () => {
  it("suspends while 16 writers insert: every acknowledged record is kept, and none lands once the suspension is answered", async () => {
    const org = await signedIn(uniqueName("Race Suspend"));
    const orgId = await orgIdOf(org.body.collection_name);
    // 403 is the suspension: those writers stop, as a client told so would.
    const writers = startWriters(org.token, 150, [401, 403]);
    await writers.reached(WRITERS * 2);
    const res = await suspendOrg(orgId);
    expect(res.status).toBe(200);
    const atAnswer = (await recordsOfOrg(orgId)).map((r) => r.id);
    await writers.stop();
    const after = (await recordsOfOrg(orgId)).map((r) => r.id);
    const stored = new Set(after);
    const lost = writers.acknowledged.filter((id) => !stored.has(id));
    report("suspend", { acknowledged: writers.acknowledged.length, lost: lost.length, leftovers: after.length - atAnswer.length, statuses: writers.statuses });
    expect(writers.statuses.get(403)).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    // Writes in flight when the suspension began were waited for: nothing landed after its 200.
    expect(after.sort()).toEqual(atAnswer.sort());
    expect(after.length).toBe(writers.acknowledged.length);
  });

  it("suspends while a rename runs: the rename finishes or is refused, the organization stays suspended, its records move with it", async () => {
    const org = await signedIn(uniqueName("Race Suspend Rename"));
    const orgId = await orgIdOf(org.body.collection_name);
    for (let i = 0; i < 20; i++) expect((await postJson("/org/records", { i }, { authorization: `Bearer ${org.token}` })).status).toBe(201);
    const target = uniqueName("Race Suspended Renamed");
    const [renamed, suspended] = await Promise.all([
      putJson("/org/update", { organization_name: org.name, new_organization_name: target }, { authorization: `Bearer ${org.token}` }),
      suspendOrg(orgId),
    ]);
    expect(suspended.status).toBe(200);
    expect([200, 403]).toContain(renamed.status);
    const data = storeClient(parseSettings(env).data.database);
    const stored = await data.collection<OrganizationDoc>(ORGANIZATIONS).findOne({ _id: ObjectId.createFromHexString(orgId) });
    expect(stored).toMatchObject({ status: "active", suspended: true, organization_name: renamed.status === 200 ? target : org.name });
    const records = await recordsOfOrg(orgId);
    expect(records).toHaveLength(20);
    expect(new Set(records.map((r) => r.collection))).toEqual(new Set([stored?.collection_name]));
    const metadata = await call(`/org/get?organization_name=${encodeURIComponent(stored?.organization_name ?? "")}`);
    expect(((await metadata.json()) as { status: string }).status).toBe("suspended");
  });
});

/**
 * A race's calls on one logical clock: each call is stamped when it is sent and when its answer is
 * received, so a test can tell the calls sent after an answer (the suspension's, the
 * reactivation's) from those in flight across it. The clock is this isolate's order of events;
 * nothing waits on a timer.
 */
interface Sent {
  loop: string;
  kind: string;
  sentAt: number;
  receivedAt: number;
  status: number;
  body: { detail?: unknown; [key: string]: unknown } | null;
}

const raceLog = () => {
  let time = 0;
  const calls: Sent[] = [];
  const watchers: { test: () => boolean; resolve: () => void }[] = [];
  const answer = deferred();
  return {
    calls,
    /**
     * Where a caller refused with 403 waits, as a client told so would back off, until the operator's
     * call is answered (`open`): callers spinning on refusals would keep the isolate busy, and in the
     * test runtime a timer (the suspension's wait for writers in flight) does not fire meanwhile.
     */
    backOff: () => answer.promise,
    open: () => answer.resolve(),
    send: async (loop: string, kind: string, request: () => Promise<Response>): Promise<Sent> => {
      const sentAt = ++time;
      const res = await request();
      const receivedAt = ++time;
      const text = await res.text();
      const entry: Sent = { loop, kind, sentAt, receivedAt, status: res.status, body: text ? JSON.parse(text) : null };
      calls.push(entry);
      for (const watcher of watchers.filter((w) => w.test())) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
      return entry;
    },
    /** Resolves once `test` holds after some call, or once `done` settles (the loops ran out). */
    until: (test: () => boolean, done: Promise<unknown>) =>
      new Promise<void>((resolve) => {
        if (test()) return resolve();
        watchers.push({ test, resolve });
        done.then(() => resolve());
      }),
    sentAfter: (instant: number) => calls.filter((c) => c.sentAt > instant),
  };
};

const SUSPENDED = ERRORS.ORGANIZATION_SUSPENDED.message;

const reactivateOrg = (orgId: string) => call(`/platform/organizations/${orgId}/reactivate`, { method: "POST", headers: operator(PLATFORM_WRITE_KEY) });

/** The status of each call, counted, for the race's report line. */
const tally = (calls: Sent[]) => {
  const statuses = new Map<number, number>();
  for (const c of calls) statuses.set(c.status, (statuses.get(c.status) ?? 0) + 1);
  return JSON.stringify(Object.fromEntries(statuses));
};

const organizationDoc = async (orgId: string): Promise<OrganizationDoc> => {
  const data = storeClient(parseSettings(env).data.database);
  const org = await data.collection<OrganizationDoc>(ORGANIZATIONS).findOne({ _id: ObjectId.createFromHexString(orgId) });
  if (!org) throw new Error(`organization ${orgId} is gone`);
  return org;
};

const invitationsOf = async (orgId: string) => {
  const data = storeClient(parseSettings(env).data.database);
  return data.collection<InvitationDoc>(INVITATIONS).find({ org_id: ObjectId.createFromHexString(orgId) }, { limit: 10_000 });
};

const accountOf = async (email: string): Promise<AccountDoc | null> => {
  const data = storeClient(parseSettings(env).data.database);
  return data.collection<AccountDoc>(USERS).findOne({ _id: await attemptKey(email.toLowerCase()) });
};

const claimsOf = (token: string) =>
  JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { admin_id: string; org_id: string; role: string; tv: number };

/** The owners counted in the document agree with its members, and there is at least one. */
const expectOwnersCounted = (org: OrganizationDoc) => {
  const owners = Object.values(org.members).filter((m) => m.role === "owner").length;
  expect(owners).toBeGreaterThanOrEqual(1);
  expect(org.owner_count).toBe(owners);
};

/** The pending invitations a token's organization lists. */
const listedInvitations = async (token: string): Promise<string[]> => {
  const res = await call("/org/invitations", { headers: bearer(token) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { invitations: { email: string }[] }).invitations.map((i) => i.email);
};

const freshEmail = (tag: string) =>
  `${tag}+${uniqueName("x")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}@example.com`;

/** An accept answered 200 happened whole: the member with the invited role, their account listing the organization, the invitation gone, a token for them. */
const expectJoinedWhole = async (org: OrganizationDoc, invitation: { id: string; email: string; role: string }, token: string) => {
  const claims = claimsOf(token);
  expect(claims.org_id).toBe(org._id.toHexString());
  const member = org.members[claims.admin_id];
  expect(member, `${invitation.email} is a member`).toMatchObject({ email_key: invitation.email.toLowerCase(), role: invitation.role });
  const account = await accountOf(invitation.email);
  expect(hasAccount(account) && account.user_id.toHexString()).toBe(claims.admin_id);
  expect(account?.org_ids?.map((id) => id.toHexString())).toEqual([org._id.toHexString()]);
  expect((await invitationsOf(org._id.toHexString())).some((i) => i._id.toHexString() === invitation.id)).toBe(false);
};

/** An accept refused by the suspension left nothing: no member, no account, the invitation pending (unclaimed) again. */
const expectNotJoined = async (org: OrganizationDoc, invitation: { id: string; email: string }) => {
  expect(Object.values(org.members).some((m) => m.email_key === invitation.email.toLowerCase())).toBe(false);
  expect(hasAccount(await accountOf(invitation.email))).toBe(false);
  const stored = (await invitationsOf(org._id.toHexString())).find((i) => i._id.toHexString() === invitation.id);
  expect(stored, `${invitation.email} is still invited`).toBeDefined();
  expect(stored?.claim).toBeUndefined();
};

/** Sixteen callers inviting distinct e-mails until stopped, each with one of `tokens`. */
const startInviters = (log: ReturnType<typeof raceLog>, tokens: string[], maxEach = 40) => {
  let stopped = false;
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    const token = tokens[w % tokens.length] as string;
    for (let i = 0; !stopped && i < maxEach; i++) {
      const email = freshEmail(`invitee${w}-${i}`);
      const c = await log.send(`inviter ${w}`, email, () => postJson("/org/invitations", { email, role: "member" }, bearer(token)));
      if (c.status === 403) await log.backOff();
    }
  });
  return {
    done: Promise.all(loops),
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
};

describe("the operator's suspension racing the member model, through the front door", { timeout: 120_000 }, () => {
  it("suspends while 16 owners and admins invite: every acknowledged invitation is kept, none lands once the suspension is answered", async () => {
    const org = await signedIn(uniqueName("Race Suspend Invite"));
    const orgId = await orgIdOf(org.body.collection_name);
    const [owner2, admin1, admin2] = await Promise.all([join(org.token, "owner"), join(org.token, "admin"), join(org.token, "admin")]);
    const log = raceLog();
    const inviters = startInviters(log, [org.token, owner2.token, admin1.token, admin2.token]);
    await log.until(() => log.calls.filter((c) => c.status === 201).length >= WRITERS * 2, inviters.done);
    const suspended = await log.send("operator", "suspend", () => suspendOrg(orgId));
    expect(suspended.status).toBe(200);
    const atAnswer = (await invitationsOf(orgId)).map((i) => i.email).sort();
    log.open();
    // The callers go on after the answer, as clients that were not told yet would.
    await log.until(() => log.sentAfter(suspended.receivedAt).length >= WRITERS * 2, inviters.done);
    await inviters.stop();
    const creates = log.calls.filter((c) => c.loop !== "operator");
    const acknowledged = creates.filter((c) => c.status === 201);
    const refused = creates.filter((c) => c.status === 403);
    const after = (await invitationsOf(orgId)).map((i) => i.email).sort();
    console.info(
      `race suspend-invite: store=${env.DATA_API_URL ? "gateway" : "embedded"} callers=${WRITERS} acknowledged=${acknowledged.length} stored=${after.length} acknowledged-after-answer=${acknowledged.filter((c) => c.receivedAt > suspended.receivedAt).length} statuses=${tally(creates)}`,
    );
    // Acknowledged or refused by the suspension, nothing else.
    expect(acknowledged.length + refused.length).toBe(creates.length);
    for (const c of refused) expect(c.body?.detail).toBe(SUSPENDED);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Every create sent once the suspension was answered is refused.
    const late = log.sentAfter(suspended.receivedAt).filter((c) => c.loop !== "operator");
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((c) => c.status !== 403)).toEqual([]);
    // What is stored is exactly what was acknowledged: none lost, none stored unanswered.
    expect(after).toEqual(acknowledged.map((c) => c.kind).sort());
    // And all of it was there when the suspension answered: the creates in flight were waited out,
    // so an acknowledgement that arrives after the answer is of an invitation already stored.
    expect(after).toEqual(atAnswer);
    // Listable once the organization is reactivated.
    expect((await reactivateOrg(orgId)).status).toBe(200);
    expect((await listedInvitations(org.token)).sort()).toEqual(after);
  });

  it("suspends while roles change, members are removed and leave: after the answer every change is refused, owners stay counted, the departed are gone with their accounts", async () => {
    const org = await signedIn(uniqueName("Race Suspend Members"));
    const orgId = await orgIdOf(org.body.collection_name);
    const owner1 = { email: org.email, password: org.password, token: org.token, userId: claimsOf(org.token).admin_id };
    // Who acts (owners, an admin), whose role changes and who is removed (R2 an owner), who leaves (O3 and, at the end, O2 and O1 too).
    const [owner2, owner3, admin1, r1, r2, r3, r4, r5, r6, t1, l1, l2, l3] = await Promise.all([
      join(org.token, "owner"),
      join(org.token, "owner"),
      join(org.token, "admin"),
      join(org.token),
      join(org.token, "owner"),
      join(org.token),
      join(org.token, "admin"),
      join(org.token),
      join(org.token),
      join(org.token),
      join(org.token),
      join(org.token),
      join(org.token),
    ]);
    // Some of them belong to a second organization too: their accounts must stay when they leave this one.
    const other = await signedIn(uniqueName("Race Elsewhere"));
    const elsewhere = [r1, r3, r5, l1];
    for (const person of elsewhere) {
      const { token } = await invite(other.token, person.email);
      expect((await postJson("/invitations/accept", { token, password: person.password })).status).toBe(200);
    }
    const everyone = [owner1, owner2, owner3, admin1, r1, r2, r3, r4, r5, r6, t1, l1, l2, l3];
    const initialRole = new Map<string, string>(Object.values((await organizationDoc(orgId)).members).map((m) => [m.user_id.toHexString(), m.role]));

    const log = raceLog();
    let stopped = false;
    /** Changes `target`'s role back and forth `changes` times (forever when undefined), then removes them, retrying a refusal until stopped. */
    const changer = async (name: string, actor: { token: string }, target: { userId: string }, roles: [string, string], changes?: number) => {
      let next = initialRole.get(target.userId) === roles[0] ? roles[1] : roles[0];
      for (let step = 0; !stopped && step < 200; step++) {
        if (changes === undefined || step < changes) {
          const c = await log.send(name, `role ${target.userId}`, () => patchJson(`/org/members/${target.userId}`, { role: next }, bearer(actor.token)));
          if (c.status === 200) next = next === roles[0] ? roles[1] : roles[0];
          if (c.status === 401) return;
          if (c.status === 403) await log.backOff();
        } else {
          const c = await log.send(name, `remove ${target.userId}`, () =>
            call(`/org/members/${target.userId}`, { method: "DELETE", headers: bearer(actor.token) }),
          );
          if (c.status === 200 || c.status === 401) return;
          if (c.status === 403) await log.backOff();
        }
      }
    };
    /** Reads the member list `reads` times, then leaves, retrying a refusal until stopped. */
    const leaver = async (name: string, person: { token: string; userId: string }, reads: number) => {
      for (let step = 0; !stopped && step < 200; step++) {
        const c =
          step < reads
            ? await log.send(name, "read", () => call("/org/members", { headers: bearer(person.token) }))
            : await log.send(name, `leave ${person.userId}`, () => postJson("/org/leave", {}, bearer(person.token)));
        if (c.status === 401 || (c.kind.startsWith("leave") && (c.status === 200 || c.status === 409))) return;
        if (c.status === 403) await log.backOff();
      }
    };
    const loops = Promise.all([
      changer("O1 changes R1", owner1, r1, ["member", "admin"], 1),
      changer("O1 changes R2", owner1, r2, ["owner", "admin"], 3),
      changer("A1 changes R3", admin1, r3, ["member", "admin"], 5),
      changer("A1 changes R4", admin1, r4, ["member", "admin"], 7),
      changer("O2 changes R5", owner2, r5, ["member", "admin"], 9),
      changer("O2 changes R6", owner2, r6, ["member", "admin"], 11),
      changer("O1 changes T1", owner1, t1, ["member", "admin"]),
      leaver("L1", l1, 2),
      leaver("L2", l2, 4),
      leaver("L3", l3, 6),
      leaver("O3", owner3, 8),
      leaver("O2", owner2, 10),
      leaver("O1", owner1, 12),
    ]);
    const departures = () => log.calls.filter((c) => /^(remove|leave) /.test(c.kind) && c.status === 200);
    // Suspend once a third of the removals and leaves went through: the rest race it.
    await log.until(() => departures().length >= 4, loops);
    const suspended = await log.send("operator", "suspend", () => suspendOrg(orgId));
    expect(suspended.status).toBe(200);
    const frozen = await organizationDoc(orgId);
    log.open();
    await log.until(() => log.sentAfter(suspended.receivedAt).length >= 16, loops);
    stopped = true;
    await loops;

    // Once answered, every caller whose token is current meets the suspension, and a stale token the usual 401.
    const current = (person: { token: string }) => {
      const { admin_id, tv } = claimsOf(person.token);
      return frozen.members[admin_id]?.token_version === tv;
    };
    const tokenOfLoop = new Map<string, { token: string }>([
      ["O1 changes R1", owner1],
      ["O1 changes R2", owner1],
      ["A1 changes R3", admin1],
      ["A1 changes R4", admin1],
      ["O2 changes R5", owner2],
      ["O2 changes R6", owner2],
      ["O1 changes T1", owner1],
      ["L1", l1],
      ["L2", l2],
      ["L3", l3],
      ["O3", owner3],
      ["O2", owner2],
      ["O1", owner1],
    ]);
    // Then each of them tries once more: a role change, a removal and leaving.
    const remaining = Object.values(frozen.members).filter((m) => m.role !== "owner");
    const target = (remaining[0] ?? Object.values(frozen.members)[0]) as MemberRecord;
    for (const person of everyone) {
      tokenOfLoop.set(`late ${person.userId}`, person);
      await log.send(`late ${person.userId}`, "late role", () =>
        patchJson(`/org/members/${target.user_id.toHexString()}`, { role: "admin" }, bearer(person.token)),
      );
      await log.send(`late ${person.userId}`, "late remove", () =>
        call(`/org/members/${target.user_id.toHexString()}`, { method: "DELETE", headers: bearer(person.token) }),
      );
      await log.send(`late ${person.userId}`, "late leave", () => postJson("/org/leave", {}, bearer(person.token)));
    }
    const changes = log.calls.filter((c) => c.loop !== "operator");
    console.info(
      `race suspend-members: store=${env.DATA_API_URL ? "gateway" : "embedded"} loops=${tokenOfLoop.size - everyone.length} departed=${departures().length} late=${log.sentAfter(suspended.receivedAt).length} statuses=${tally(changes)}`,
    );
    const late = log.sentAfter(suspended.receivedAt);
    expect(late.filter((c) => c.status === 403).length).toBeGreaterThan(0);
    // (The role a token names is checked first, with no read: a member's token may not change roles at all.)
    const needs: Record<string, Permission | undefined> = { role: "member:update", remove: "member:remove", read: "member:read", leave: undefined };
    for (const c of late) {
      const who = tokenOfLoop.get(c.loop) as { token: string };
      const permission = needs[c.kind.replace(/^late /, "").split(" ")[0] as string];
      const expected =
        permission && !can(claimsOf(who.token).role as Role, permission)
          ? [403, ERRORS.PERMISSION_DENIED.message]
          : current(who)
            ? [403, SUSPENDED]
            : [401, ERRORS.INVALID_TOKEN.message];
      expect([c.status, c.body?.detail], `${c.loop}: ${c.kind}`).toEqual(expected);
    }
    // Before it, only the answers these calls can have; a 403 to a racing call is only ever the suspension.
    for (const c of changes) {
      expect([200, 401, 403, 404, 409], `${c.loop}: ${c.kind}`).toContain(c.status);
      if (c.status === 403 && !c.loop.startsWith("late")) expect(c.body?.detail).toBe(SUSPENDED);
    }

    // Nothing changed after the answer; the owners are counted right, and there is one.
    const final = await organizationDoc(orgId);
    expect(final.members).toEqual(frozen.members);
    expect(final.suspended).toBe(true);
    expectOwnersCounted(final);
    // Exactly those whose removal or leave was acknowledged are gone, each once.
    const departed = departures().map((c) => c.kind.split(" ")[1] as string);
    expect(new Set(departed).size).toBe(departed.length);
    expect(
      everyone
        .filter((p) => !final.members[p.userId])
        .map((p) => p.userId)
        .sort(),
    ).toEqual([...departed].sort());
    // Their accounts: closed when this was their last organization, kept for the other one otherwise.
    const otherId = await orgIdOf(other.body.collection_name);
    for (const person of everyone) {
      const account = await accountOf(person.email);
      const orgs = (account?.org_ids ?? []).map((id) => id.toHexString()).sort();
      const expected = [...(final.members[person.userId] ? [orgId] : []), ...(elsewhere.includes(person) ? [otherId] : [])].sort();
      if (expected.length === 0) expect(hasAccount(account), `${person.email} is closed`).toBe(false);
      else expect([hasAccount(account) && account.user_id.toHexString(), orgs], person.email).toEqual([person.userId, expected]);
    }
    // The last role each change acknowledged is the one stored.
    for (const person of [r1, r2, r3, r4, r5, r6, t1]) {
      if (!final.members[person.userId]) continue;
      const last = log.calls.filter((c) => c.kind === `role ${person.userId}` && c.status === 200).at(-1);
      expect(final.members[person.userId]?.role).toBe(last ? (last.body as { role: string }).role : initialRole.get(person.userId));
    }
    // Reactivated, the members are as the suspension left them, and a current owner's token works again.
    expect((await reactivateOrg(orgId)).status).toBe(200);
    const owner = everyone.find((p) => final.members[p.userId]?.role === "owner" && current(p));
    if (owner) {
      const res = await call("/org/members?limit=200", { headers: bearer(owner.token) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { members: { user_id: string }[] }).members.map((m) => m.user_id).sort()).toEqual(Object.keys(final.members).sort());
    }
  });

  it("suspends while invitations are accepted: each accept is whole or absent, never half, and a pending one is accepted once reactivated", async () => {
    const org = await signedIn(uniqueName("Race Suspend Accept"));
    const orgId = await orgIdOf(org.body.collection_name);
    const roles = ["member", "admin", "owner"];
    const invitations = await Promise.all(Array.from({ length: WRITERS * 2 }, (_, i) => invite(org.token, freshEmail(`joiner${i}`), roles[i % 3])));
    const log = raceLog();
    const accept = (invitation: { token: string }, loop: string, kind: string) =>
      log.send(loop, kind, () => postJson("/invitations/accept", { token: invitation.token, password: "Joiner-1234" }));
    // Sixteen accepters, two invitations each, one after the other: when the suspension comes, the
    // first ones are at their own steps and the second ones start, whatever the store's pace.
    const loops = Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (const i of [w, w + WRITERS]) await accept(invitations[i] as { token: string }, `accepter ${w}`, String(i));
      }),
    );
    await log.until(() => log.calls.filter((c) => c.status === 200).length >= WRITERS / 4, loops);
    const suspended = await log.send("operator", "suspend", () => suspendOrg(orgId));
    expect(suspended.status).toBe(200);
    await loops;
    // Once answered, a pending invitation cannot be accepted: try each once more.
    const answered = new Map(log.calls.filter((c) => c.loop !== "operator").map((c) => [Number(c.kind), c]));
    for (const [i, invitation] of invitations.entries()) {
      if (answered.get(i)?.status !== 200) answered.set(i, await accept(invitation, "late", String(i)));
    }
    const accepts = log.calls.filter((c) => c.loop !== "operator");
    console.info(
      `race suspend-accept: store=${env.DATA_API_URL ? "gateway" : "embedded"} invitations=${invitations.length} joined=${accepts.filter((c) => c.status === 200).length} late=${log.sentAfter(suspended.receivedAt).length} statuses=${tally(accepts)}`,
    );
    for (const c of accepts) {
      expect([200, 403], c.kind).toContain(c.status);
      if (c.status === 403) expect(c.body?.detail).toBe(SUSPENDED);
    }
    expect(log.sentAfter(suspended.receivedAt).filter((c) => c.status !== 403)).toEqual([]);
    expect(accepts.filter((c) => c.status === 200).length).toBeGreaterThan(0);
    expect(accepts.filter((c) => c.status === 403).length).toBeGreaterThan(0);
    const frozen = await organizationDoc(orgId);
    expectOwnersCounted(frozen);
    for (const [i, invitation] of invitations.entries()) {
      const c = answered.get(i) as Sent;
      if (c.status === 200) await expectJoinedWhole(frozen, invitation, (c.body as { access_token: string }).access_token);
      else await expectNotJoined(frozen, invitation);
    }
    expect(Object.keys(frozen.members)).toHaveLength(1 + accepts.filter((c) => c.status === 200).length);
    // Reactivated: the tokens answered before work again, and every pending invitation is accepted.
    expect((await reactivateOrg(orgId)).status).toBe(200);
    for (const c of accepts.filter((a) => a.status === 200)) {
      expect((await call("/org/members", { headers: bearer((c.body as { access_token: string }).access_token) })).status).toBe(200);
    }
    for (const [i, invitation] of invitations.entries()) {
      if (answered.get(i)?.status === 200) continue;
      const res = await postJson("/invitations/accept", { token: invitation.token, password: "Joiner-1234" });
      expect(res.status).toBe(200);
      await expectJoinedWhole(await organizationDoc(orgId), invitation, ((await res.json()) as { access_token: string }).access_token);
    }
    const all = await organizationDoc(orgId);
    expect(Object.keys(all.members)).toHaveLength(1 + invitations.length);
    expectOwnersCounted(all);
  });

  it("reactivates while invitations, role changes, removals, leaves and accepts run against the suspended organization: nothing is lost", async () => {
    const org = await signedIn(uniqueName("Race Reactivate"));
    const orgId = await orgIdOf(org.body.collection_name);
    const owner = { token: org.token };
    const [admin, t1, t2, r1, r2, l1, l2] = await Promise.all([
      join(org.token, "admin"),
      join(org.token),
      join(org.token),
      join(org.token),
      join(org.token),
      join(org.token),
      join(org.token, "owner"),
    ]);
    const roles = ["member", "admin", "owner"];
    const invitations = await Promise.all(Array.from({ length: 8 }, (_, i) => invite(org.token, freshEmail(`latecomer${i}`), roles[i % 3])));
    const suspended = await suspendOrg(orgId);
    expect(suspended.status).toBe(200);

    const log = raceLog();
    let stopped = false;
    /**
     * Repeats one call until it succeeds or the race stops. A refusal by the suspension is retried,
     * and so is a 409 (busy): a call refused by the suspension's guard whose reason is looked up
     * after the reactivation finds nothing wrong any more, and says to try again.
     */
    const untilDone = async (loop: string, kind: string, request: () => Promise<Response>) => {
      for (let tries = 0; !stopped && tries < 400; tries++) {
        const c = await log.send(loop, kind, request);
        if (c.status !== 403 && c.status !== 409) return;
        await log.backOff();
      }
    };
    const toggler = async (loop: string, actor: { token: string }, target: { userId: string }) => {
      let next = "admin";
      for (let step = 0; !stopped && step < 50; step++) {
        const c = await log.send(loop, `role ${target.userId}`, () => patchJson(`/org/members/${target.userId}`, { role: next }, bearer(actor.token)));
        if (c.status === 200) next = next === "admin" ? "member" : "admin";
        if (c.status === 403) await log.backOff();
      }
    };
    const inviters = startInviters(log, [owner.token, admin.token], 12);
    let settled = false;
    const once = Promise.all([
      untilDone("O removes R1", `remove ${r1.userId}`, () => call(`/org/members/${r1.userId}`, { method: "DELETE", headers: bearer(owner.token) })),
      untilDone("A removes R2", `remove ${r2.userId}`, () => call(`/org/members/${r2.userId}`, { method: "DELETE", headers: bearer(admin.token) })),
      untilDone("L1", `leave ${l1.userId}`, () => postJson("/org/leave", {}, bearer(l1.token))),
      untilDone("L2", `leave ${l2.userId}`, () => postJson("/org/leave", {}, bearer(l2.token))),
      ...invitations.map((invitation, i) =>
        untilDone(`accepter ${i}`, `accept ${i}`, () => postJson("/invitations/accept", { token: invitation.token, password: "Joiner-1234" })),
      ),
    ]).then(() => {
      settled = true;
    });
    const loops = Promise.all([toggler("O changes T1", owner, t1), toggler("A changes T2", admin, t2), once]);
    const everything = Promise.all([loops, inviters.done]);
    // Once the accepts too are being refused (they take longer: a password is hashed), half of them.
    const refused = (loop: string) => log.calls.filter((c) => c.status === 403 && c.loop.startsWith(loop)).length;
    await log.until(() => refused("") >= WRITERS && refused("accepter") >= invitations.length / 2, everything);
    const reactivated = await log.send("operator", "reactivate", () => reactivateOrg(orgId));
    expect(reactivated.status).toBe(200);
    log.open();
    // Until every removal, leave and accept has had its answer, and the others have run a while since.
    await log.until(() => settled && log.sentAfter(reactivated.receivedAt).length >= WRITERS * 4, everything);
    stopped = true;
    await inviters.stop();
    await loops;
    const calls = log.calls.filter((c) => c.loop !== "operator");
    console.info(
      `race reactivate: store=${env.DATA_API_URL ? "gateway" : "embedded"} calls=${calls.length} after=${log.sentAfter(reactivated.receivedAt).length} statuses=${tally(calls)}`,
    );
    // Suspended until the reactivation was asked, and never refused once it was answered.
    for (const c of calls) {
      const across = c.sentAt < reactivated.receivedAt && c.receivedAt > reactivated.sentAt;
      expect([200, 201, 403, ...(across ? [409] : [])], `${c.loop}: ${c.kind} ${JSON.stringify(c.body)}`).toContain(c.status);
      if (c.status === 403) expect(c.body?.detail).toBe(SUSPENDED);
      if (c.status === 409) expect(c.body?.detail).toBe(ERRORS.ORGANIZATION_BUSY.message);
      if (c.receivedAt < reactivated.sentAt) expect(c.status, `${c.loop}: ${c.kind}`).toBe(403);
      if (c.sentAt > reactivated.receivedAt) expect(c.status, `${c.loop}: ${c.kind}`).not.toBe(403);
    }
    const final = await organizationDoc(orgId);
    expect(final.suspended).toBeUndefined();
    expectOwnersCounted(final);
    // Every acknowledged invitation is stored and listed, and nothing else is pending.
    const created = calls.filter((c) => c.loop.startsWith("inviter") && c.status === 201).map((c) => c.kind);
    expect(created.length).toBeGreaterThan(0);
    expect((await invitationsOf(orgId)).map((i) => i.email).sort()).toEqual([...created].sort());
    expect((await listedInvitations(org.token)).sort()).toEqual([...created].sort());
    // Every invitation accepted, whole.
    for (const [i, invitation] of invitations.entries()) {
      const c = calls.find((a) => a.kind === `accept ${i}` && a.status === 200) as Sent;
      await expectJoinedWhole(final, invitation, (c.body as { access_token: string }).access_token);
    }
    // The removed and the departed are gone, their accounts closed; the rest stay.
    for (const person of [r1, r2, l1, l2]) {
      expect(final.members[person.userId]).toBeUndefined();
      expect(hasAccount(await accountOf(person.email))).toBe(false);
    }
    for (const person of [admin, t1, t2]) expect(hasAccount(await accountOf(person.email))).toBe(true);
    // The last role change acknowledged is the one stored.
    for (const person of [t1, t2]) {
      const last = calls.filter((c) => c.kind === `role ${person.userId}` && c.status === 200).at(-1);
      expect(last).toBeDefined();
      expect(final.members[person.userId]?.role).toBe((last?.body as { role: string } | undefined)?.role);
    }
    expect(Object.keys(final.members)).toHaveLength(1 + 3 + invitations.length);
  });
});

/**
 * The window made wide on purpose: the store holds a record insert back while the rename or delete
 * runs, as a slow network or a busy store could. Without the write fence the insert lands in a
 * re-created old collection (lost) or after the drop (left behind).
 */
describe("a record write held back in transit", () => {
  const depsFor = (database: string, wrap?: (send: Fetcher) => Fetcher, overrides: Record<string, string> = {}): Deps => {
    const settings = parseSettings({ ...env, DATABASE: database, PBKDF2_ITERATIONS: "10000", ...overrides });
    const data = storeClient(database, wrap);
    const deps: Deps = {
      data,
      organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
      settings,
      now: () => new Date(),
      sleep: pause,
      background: (task) => {
        task(depsFor(database)).catch(() => {});
      },
    };
    return deps;
  };
  /** Delays every insert (a record's is fenced: insertOneFenced) by `ms`, and tells when one has been sent. */
  const slowInserts = (ms: number) => {
    let sent: () => void = () => {};
    const insertSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const wrap =
      (send: Fetcher): Fetcher =>
      async (request) => {
        if (/\/insertOne(Fenced)?$/.test(new URL(request.url).pathname)) {
          sent();
          await pause(ms);
        }
        return send(request);
      };
    return { wrap, insertSent };
  };

  const setUp = async (name: string) => {
    const database = `races_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
    const healthy = depsFor(database);
    await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
    const email = `admin@${name.toLowerCase()}.example.com`;
    await createOrganization(healthy, { organization_name: name, email, password: "Test1234" });
    const org = (await healthy.organizations.findOne({ slug: name.toLowerCase() })) as OrganizationDoc;
    return { database, healthy, email, principal: ownerOf(org) };
  };

  it("lands in the collection's new name when a rename runs meanwhile", async () => {
    const { database, healthy, email, principal } = await setUp("Held");
    const slow = slowInserts(300);
    const write = createRecord(depsFor(database, slow.wrap), principal, { held: true });
    await slow.insertSent;
    await renameOrganization(healthy, { organization_name: "Held", new_organization_name: "Moved" }, { kind: "password", email, password: "Test1234" });
    const record = await write;
    expect(await healthy.data.collection("org_moved").findOne({ _id: new ObjectId(record.id) })).not.toBeNull();
    expect((await healthy.data.listCollections()).map((c) => c.name)).toEqual(expect.not.arrayContaining(["org_held"]));
  });

  it("is gone with the organization when a delete runs meanwhile", async () => {
    const { database, healthy, principal } = await setUp("Doomed");
    const slow = slowInserts(300);
    const write = createRecord(depsFor(database, slow.wrap), principal, { held: true });
    await slow.insertSent;
    await deleteOrganization(healthy, "Doomed", principal);
    await write.catch(() => {});
    expect((await healthy.data.listCollections()).map((c) => c.name)).not.toContain("org_doomed");
  });

  it("an invitation held back in transit is waited for by a suspension: stored before its answer, and none taken after", async () => {
    const { database, healthy, principal } = await setUp("Inviting");
    const slow = slowInserts(300);
    const inviting = createInvitation(depsFor(database, slow.wrap), principal, { email: "held@example.com", role: "member" });
    await slow.insertSent;
    await suspendOrganization(healthy, principal.orgId, "race", "ops-write");
    // Its lease was taken before the mark, so the suspension answered only once the insert had landed.
    expect(await healthy.data.collection(INVITATIONS).findOne({ email: "held@example.com" })).not.toBeNull();
    await expect(inviting).resolves.toMatchObject({ email: "held@example.com" });
    await expect(createInvitation(healthy, principal, { email: "after@example.com", role: "member" })).rejects.toMatchObject({
      code: "ORGANIZATION_SUSPENDED",
    });
    expect(await healthy.data.collection(INVITATIONS).countDocuments({})).toBe(1);
  });

  it("a revoke held back in transit is waited for by a suspension: gone before its answer, and none after", async () => {
    const { database, healthy, principal } = await setUp("Revoking");
    const [held, kept] = await Promise.all(
      ["held@example.com", "kept@example.com"].map((email) => createInvitation(healthy, principal, { email, role: "member" })),
    );
    let sent: () => void = () => {};
    const deleteSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const slowDeletes =
      (send: Fetcher): Fetcher =>
      async (request) => {
        if (new URL(request.url).pathname.endsWith("/deleteOne")) {
          sent();
          await pause(300);
        }
        return send(request);
      };
    const revoking = revokeInvitation(depsFor(database, slowDeletes), principal, ObjectId.createFromHexString(held?.id ?? ""));
    await deleteSent;
    await suspendOrganization(healthy, principal.orgId, "race", "ops-write");
    const emails = async () => (await healthy.data.collection<InvitationDoc>(INVITATIONS).find({})).map((i) => i.email);
    expect(await emails()).toEqual(["kept@example.com"]);
    await revoking;
    await expect(revokeInvitation(healthy, principal, ObjectId.createFromHexString(kept?.id ?? ""))).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
    expect(await emails()).toEqual(["kept@example.com"]);
  });

  it("a record write leaves no lease once answered: a writer that dies after it delays no rename, and its record moves with the data", async () => {
    const { database, healthy, email, principal } = await setUp("Orphan");
    // The writer's isolate dies after the write: nothing it would do after the answer happens.
    const dying = { ...depsFor(database, undefined, { DATA_API_TIMEOUT_MS: "300" }), background: () => {} };
    const record = await createRecord(dying, principal, { last: "words" });
    expect((await healthy.organizations.findOne({ slug: "orphan" }))?.write_leases ?? {}).toEqual({});
    const renaming = Date.now();
    await renameOrganization(healthy, { organization_name: "Orphan", new_organization_name: "Adopted" }, { kind: "password", email, password: "Test1234" });
    // No lease to wait out (a lease would count 300 ms + the skew allowance).
    expect(Date.now() - renaming).toBeLessThan(300 + CLOCK_SKEW_MS);
    expect(await healthy.data.collection("org_adopted").findOne({ _id: new ObjectId(record.id) })).not.toBeNull();
  });

  it("a write still in transit when its writer gave up is refused by the store, not applied after the move", async () => {
    const { database, healthy, email, principal } = await setUp("Late");
    let arrival: Promise<Response> | undefined;
    // The writer's call times out (and it gives its lease back), but the request itself is only
    // delayed: it reaches the store a second later, after the rename moved the collection.
    const inTransit =
      (send: Fetcher): Fetcher =>
      async (request) => {
        if (!new URL(request.url).pathname.endsWith("/insertOneFenced")) return send(request);
        const copy = new Request(request.url, { method: "POST", headers: request.headers, body: await request.arrayBuffer() });
        arrival = pause(1_000).then(() => send(copy));
        return new Promise<Response>((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
      };
    const writer = { ...depsFor(database, inTransit, { DATA_API_TIMEOUT_MS: "300" }), background: depsFor(database).background };
    await expect(createRecord(writer, principal, { late: true })).rejects.toThrow();
    await renameOrganization(healthy, { organization_name: "Late", new_organization_name: "Moved On" }, { kind: "password", email, password: "Test1234" });
    const answer = await (arrival as Promise<Response>);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error_code: "DeadlineExceeded" });
    expect((await healthy.data.listCollections()).map((c) => c.name)).toEqual(expect.not.arrayContaining(["org_late"]));
    expect(await healthy.data.collection("org_moved_on").countDocuments()).toBe(0);
  });
});

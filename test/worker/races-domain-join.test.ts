import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { hasAccount } from "../../src/domain/accounts/accounts";
import { DOMAINS, type DomainDoc, recordLookup } from "../../src/domain/domains/domains";
import { ERRORS } from "../../src/domain/kernel/errors";
import { memberOf, type OrganizationDoc } from "../../src/domain/kernel/model";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { ROUTES } from "../../src/http/routes";
import { bearer, call, createOrg, env, join, loginToken, patchJson, postJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";
import { accounts, freshDomain, organizations, orgIdOf, proveAddress, signUp, verifiedInStore } from "./domain-kit";
import { checkAccounts, depsFor, laterDeps } from "./faults";

/**
 * Joining by domain under concurrency, through the front door, on whichever store the Worker is
 * configured with. A join marks the account (listing the organization) before the update that
 * adds the member, which is guarded by the domain's policy or by the request and its approver: so
 * whatever races it (the same join again, the policy changing, the domain or the organization
 * going, a decline, another approval, another organization verifying the domain), a member's
 * account lists the organization, and an account lists only organizations it belongs to. Domains
 * are verified in the store as a lookup that found their record leaves them, so the suite runs
 * without the DNS server too.
 */
const database = useOwnDatabase("domainjoin");

/** An answer, on one logical clock: when it was sent and when it came back (the isolate's order of events). */
interface Answer {
  status: number;
  body: { detail?: unknown; [key: string]: unknown } | null;
  sentAt: number;
  receivedAt: number;
  /** Sent again after a 503 (the store shedding load, as a client retries). */
  retried: number;
}

let clock = 0;

const timed = async (request: () => Promise<Response>): Promise<Answer> => {
  let retried = 0;
  for (;;) {
    const sentAt = ++clock;
    const res = await request();
    const receivedAt = ++clock;
    const text = await res.text();
    if (res.status === 503 && retried < 5) {
      retried++;
      continue;
    }
    return { status: res.status, body: text ? JSON.parse(text) : null, sentAt, receivedAt, retried };
  }
};

/** What the route declares it may refuse with, by status and message. */
const declared = (method: string, path: string) => {
  const route = ROUTES.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`no route ${method} ${path}`);
  return route.errors.map((code) => ({ status: ERRORS[code].status, detail: ERRORS[code].message }));
};

const JOIN = declared("post", "/auth/suggestions/{org_id}/join");
const APPROVE = declared("post", "/org/join-requests/{user_id}/approve");
const DECLINE = declared("delete", "/org/join-requests/{user_id}");

/** Succeeded, or refused as the route declares with a clear 4xx of `statuses`: never a 5xx, never an undeclared refusal. */
const expectAnswered = (answer: Answer, success: number, refusals: { status: number; detail: string }[], statuses: number[]) => {
  if (answer.status === success) return;
  expect(statuses, JSON.stringify(answer)).toContain(answer.status);
  expect(refusals, JSON.stringify(answer)).toContainEqual({ status: answer.status, detail: answer.body?.detail });
};

const tally = (answers: Answer[]) => {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status < 300 ? String(a.status) : `${a.status} ${String(a.body?.detail).slice(0, 24)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

const report = (race: string, answers: Answer[]) =>
  console.info(
    `race ${race}: store=${env.DATA_API_URL ? "gateway" : "embedded"} retried=${answers.reduce((n, a) => n + a.retried, 0)} ${JSON.stringify(tally(answers))}`,
  );

interface Person {
  email: string;
  userId: string;
  token: string;
}

/** People who signed up at the domain and proved their addresses. */
const people = (domain: string, count: number, tag: string): Promise<Person[]> =>
  Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const email = `${tag}${i}@${domain}`;
      const { user_id, access_token } = await signUp(email);
      await proveAddress(email);
      return { email, userId: user_id, token: access_token };
    }),
  );

/** One store round trip, to space requests by: a request's steps are store calls too. */
const tick = () => accounts().findOne({ _id: "tick" });

/**
 * Sends the people's joins one round trip apart and `change` after the first `at` of them, all in
 * flight together; answers the change's answer once every join in flight has been sent.
 */
const staggered = async (crowd: Person[], at: number, joins: Map<Person, Promise<Answer>>, orgId: string, change: () => Promise<Response>) => {
  let changed: Promise<Answer> | undefined;
  for (const [i, person] of crowd.entries()) {
    if (i === at) changed = timed(change);
    joins.set(person, joinAs(person, orgId));
    await tick();
  }
  return (await changed) as Answer;
};

const joinAs = (person: Person, orgId: string) => timed(() => postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(person.token)));

const oid = (hex: string) => ObjectId.createFromHexString(hex);

const organization = async (orgId: string) => organizations().findOne({ _id: oid(orgId) });

const accountOf = (person: Pick<Person, "userId">) => accounts().findOne({ user_id: oid(person.userId) });

const lists = (account: { org_ids?: ObjectId[] } | null, orgId: string) => (account?.org_ids ?? []).filter((id) => id.toHexString() === orgId).length;

/** Member exactly when `joined`, and the account listing the organization exactly then (once); the account, opened by sign-up, stays. */
const expectWhole = async (org: OrganizationDoc | null, orgId: string, person: Person, joined: boolean) => {
  const account = await accountOf(person);
  expect(hasAccount(account), `${person.email} still has an account`).toBe(true);
  expect(org !== null && memberOf(org, oid(person.userId)) !== undefined, `${person.email} is a member`).toBe(joined);
  expect(lists(account, orgId), `${person.email} lists the organization`).toBe(joined ? 1 : 0);
  expect(account?.domain_join, `${person.email} has no join under way`).toBeUndefined();
};

/**
 * Once every request has been answered (and its work after the answer done): nothing is left
 * joining; then, with the reconciler run over whatever else is left, every member's account lists
 * its organization and every account lists only organizations it belongs to, across the store.
 */
const expectSettled = async () => {
  expect(await accounts().countDocuments({ domain_join: { $exists: true } }), "no join is left under way").toBe(0);
  const report = await reconcile(laterDeps(database), new Date(Date.now() + 120_000));
  expect(report.failed).toBe(0);
  const deps = depsFor(database);
  await checkAccounts(deps, await deps.organizations.find({}, { limit: 10_000 }));
};

describe("joining by domain, raced", { timeout: 120_000 }, () => {
  it("one account joining the same auto_join organization eight times at once: one membership, the rest refused clearly", async () => {
    const { orgId, domain } = await verifiedInStore({ policy: "auto_join" });
    const [person] = (await people(domain, 1, "eager")) as [Person];
    const answers = await Promise.all(Array.from({ length: 8 }, () => joinAs(person, orgId)));
    report("join x8", answers);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    for (const a of answers) expectAnswered(a, 201, JOIN, [404, 409]);
    const org = await organization(orgId);
    await expectWhole(org, orgId, person, true);
    expect(Object.keys(org?.members ?? {})).toHaveLength(2);
    await expectSettled();
  });

  const changes: [string, (owner: string, id: string) => Promise<Response>][] = [
    ["the policy set to none", (owner, id) => patchJson(`/org/domains/${id}`, { policy: "none" }, bearer(owner))],
    ["the domain deleted", (owner, id) => call(`/org/domains/${id}`, { method: "DELETE", headers: bearer(owner) })],
  ];

  it.each(changes)(
    "ten accounts joining while %s: whoever got 201 is a member, whoever was refused is not, and none joins after the answer",
    async (name, change) => {
      const { owner, orgId, domain, id } = await verifiedInStore({ policy: "auto_join" });
      const crowd = await people(domain, 10, "crowd");
      const joins = new Map<Person, Promise<Answer>>();
      // One join answered first; then joins sent one store round trip apart, the change among them,
      // so that it lands while the joins before it are at every point between their read of the
      // policy and the update adding the member; the last join once the change is answered.
      const first = joinAs(crowd[0] as Person, orgId);
      joins.set(crowd[0] as Person, first);
      expect((await first).status).toBe(201);
      const answered = await staggered(crowd.slice(1, 9), 3, joins, orgId, () => change(owner, id));
      expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      joins.set(crowd[9] as Person, joinAs(crowd[9] as Person, orgId));
      const answers = await Promise.all(joins.values());
      report(`join while ${name}`, [answered, ...answers]);
      for (const a of answers) expectAnswered(a, 201, JOIN, [404, 409]);
      // Sent once the change was answered: refused, every one.
      const late = answers.filter((a) => a.sentAt > answered.receivedAt);
      expect(late.length).toBeGreaterThanOrEqual(1);
      expect(late.filter((a) => a.status === 201)).toEqual([]);
      const org = await organization(orgId);
      for (const [person, answer] of joins) await expectWhole(org, orgId, person, (await answer).status === 201);
      expect(Object.keys(org?.members ?? {})).toHaveLength(1 + answers.filter((a) => a.status === 201).length);
      // Nobody is suggested the organization any more, and a join now is refused.
      const again = await joinAs(crowd[9] as Person, orgId);
      expect(again.status).toBe(404);
      await expectSettled();
    },
  );

  it("joins racing the organization's delete: nothing of it is left, and the accounts sign-up opened stay", async () => {
    const { org, owner, orgId, domain } = await verifiedInStore({ policy: "auto_join" });
    // Members who came by invitation: their accounts close with the organization.
    const invited = await Promise.all([join(owner), join(owner, "admin")]);
    const crowd = await people(domain, 10, "doomed");
    // One join answered first; then joins one store round trip apart, the delete among them; the last once it is answered.
    const joins = new Map<Person, Promise<Answer>>();
    const first = joinAs(crowd[0] as Person, orgId);
    joins.set(crowd[0] as Person, first);
    expect((await first).status).toBe(201);
    const answered = await staggered(crowd.slice(1, 9), 3, joins, orgId, () =>
      call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, { method: "DELETE", headers: bearer(owner) }),
    );
    joins.set(crowd[9] as Person, joinAs(crowd[9] as Person, orgId));
    const answers = await Promise.all(joins.values());
    report("join during delete", [answered, ...answers]);
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    for (const a of answers) expectAnswered(a, 201, JOIN, [404, 409]);
    // Nobody joins once the delete is answered.
    expect(answers.filter((a) => a.sentAt > answered.receivedAt && a.status === 201)).toEqual([]);
    expect(await organization(orgId)).toBeNull();
    expect(await accounts().countDocuments({ org_ids: oid(orgId) }), "no account lists the deleted organization").toBe(0);
    for (const person of crowd) await expectWhole(null, orgId, person, false);
    for (const member of invited) expect(hasAccount(await accounts().findOne({ user_id: oid(member.userId) })), `${member.email} was closed`).toBe(false);
    expect(
      await storeClient(database)
        .collection(DOMAINS)
        .countDocuments({ org_id: oid(orgId) }),
    ).toBe(0);
    // A join sent now finds nothing to join.
    expect((await joinAs(crowd[0] as Person, orgId)).status).toBe(404);
    await expectSettled();
  });

  it("approvals racing the organization's delete: refused as the route declares once it is going, and no account lists it after", async () => {
    const { org, owner, orgId, domain } = await verifiedInStore({ policy: "suggest" });
    const crowd = await people(domain, 8, "pending");
    for (const person of crowd) expect((await joinAs(person, orgId)).status).toBe(202);
    const approvals: Promise<Answer>[] = [];
    let deleted: Promise<Answer> | undefined;
    // Approvals one store round trip apart, the delete among them.
    for (const [i, person] of crowd.entries()) {
      if (i === 3) deleted = timed(() => call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, { method: "DELETE", headers: bearer(owner) }));
      approvals.push(timed(() => postJson(`/org/join-requests/${person.userId}/approve`, {}, bearer(owner))));
      await tick();
    }
    const [answered, answers] = await Promise.all([deleted as Promise<Answer>, Promise.all(approvals)]);
    report("approve during delete", [answered, ...answers]);
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    for (const a of answers) expectAnswered(a, 200, APPROVE, [401, 404, 409]);
    expect(answers.filter((a) => a.sentAt > answered.receivedAt && a.status === 200)).toEqual([]);
    expect(await accounts().countDocuments({ org_ids: oid(orgId) }), "no account lists the deleted organization").toBe(0);
    for (const person of crowd) await expectWhole(null, orgId, person, false);
    await expectSettled();
  });

  it("an approval racing a decline of the same request, and two approvals at once: at most one membership each, the account agreeing", async () => {
    const { owner, orgId, domain } = await verifiedInStore({ policy: "suggest" });
    const admin = await join(owner, "admin");
    const crowd = await people(domain, 6, "asker");
    for (const person of crowd) expect((await joinAs(person, orgId)).status).toBe(202);
    const approve = (token: string, person: Person, role: string) =>
      timed(() => postJson(`/org/join-requests/${person.userId}/approve`, { role }, bearer(token)));
    const decline = (token: string, person: Person) => timed(() => call(`/org/join-requests/${person.userId}`, { method: "DELETE", headers: bearer(token) }));
    const contested = crowd.slice(0, 3);
    const doubled = crowd.slice(3);
    const [declines, doubles] = await Promise.all([
      Promise.all(contested.map((person) => Promise.all([approve(owner, person, "member"), decline(admin.token, person)]))),
      Promise.all(doubled.map((person) => Promise.all([approve(owner, person, "member"), approve(admin.token, person, "admin")]))),
    ]);
    report("approve vs decline", declines.flat());
    report("approve x2", doubles.flat());
    const org = await organization(orgId);
    for (const [i, [approved, declined]] of declines.entries()) {
      expectAnswered(approved, 200, APPROVE, [404, 409]);
      expectAnswered(declined, 200, DECLINE, [404, 409]);
      // Exactly one of them happened: the request was the approval's or the decline's.
      expect([approved.status, declined.status].filter((s) => s === 200)).toHaveLength(1);
      await expectWhole(org, orgId, contested[i] as Person, approved.status === 200);
    }
    for (const [i, pair] of doubles.entries()) {
      for (const a of pair) expectAnswered(a, 200, APPROVE, [404, 409]);
      const winners = pair.filter((a) => a.status === 200);
      expect(winners).toHaveLength(1);
      const person = doubled[i] as Person;
      await expectWhole(org, orgId, person, true);
      expect(org?.members[person.userId]?.role).toBe(winners[0]?.body?.role);
    }
    expect(org?.join_requests ?? []).toEqual([]);
    await expectSettled();
  });

  it("approvals by a holder of the organization's own role while that role stops giving member:invite: none lets anyone in once the change is answered", async () => {
    const { owner, orgId, domain } = await verifiedInStore({ policy: "suggest" });
    const memberPermissions = ["member:read", "records:read", "records:write"];
    expect((await postJson("/org/roles", { name: "gatekeeper", permissions: ["member:invite", ...memberPermissions] }, bearer(owner))).status).toBe(201);
    const holder = await join(owner);
    expect((await patchJson(`/org/members/${holder.userId}`, { roles: ["member", "gatekeeper"] }, bearer(owner))).status).toBe(200);
    const keeper = await loginToken(holder.email, holder.password);
    const crowd = await people(domain, 8, "kept");
    for (const person of crowd) expect((await joinAs(person, orgId)).status).toBe(202);
    const approve = (person: Person) => timed(() => postJson(`/org/join-requests/${person.userId}/approve`, {}, bearer(keeper)));
    // The role lets its holder approve before the change: the first approval is answered before the race begins, so the
    // refusals below are the change's doing and not a role that never worked (racing it too made its outcome the machine's speed).
    const [first, ...raced] = crowd as [Person, ...Person[]];
    const before = await approve(first);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    const approvals = new Map<Person, Promise<Answer>>([[first, Promise.resolve(before)]]);
    let changed: Promise<Answer> | undefined;
    // Approvals one store round trip apart, the role's change among them.
    for (const [i, person] of raced.entries()) {
      if (i === 2) changed = timed(() => patchJson("/org/roles/gatekeeper", { permissions: memberPermissions }, bearer(owner)));
      approvals.set(person, approve(person));
      await tick();
    }
    const answered = await (changed as Promise<Answer>);
    const answers = await Promise.all(approvals.values());
    report("approve while the role changes", [answered, ...answers]);
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    // Refused for the approver's standing, whether at the route (sent after the change) or by the update adding the member (in flight).
    for (const a of answers) expectAnswered(a, 200, APPROVE, a.retried ? [403, 404, 409] : [403]);
    expect(answers.filter((a) => a.sentAt > answered.receivedAt && a.status === 200)).toEqual([]);
    const org = await organization(orgId);
    const outcomes = await Promise.all([...approvals].map(async ([person, answer]) => ({ person, status: (await answer).status })));
    for (const { person, status } of outcomes) await expectWhole(org, orgId, person, status === 200);
    // Whoever was not let in still waits for someone who may.
    const waiting = (org?.join_requests ?? []).map((r) => r.user_id.toHexString()).sort();
    expect(waiting).toEqual(outcomes.flatMap(({ person, status }) => (status === 200 ? [] : [person.userId])).sort());
    await expectSettled();
  });

  it("two organizations verifying the same domain at once, auto_join on both: the people join exactly the one that verified", async () => {
    const domain = freshDomain();
    const claimants = await Promise.all(
      [0, 1].map(async () => {
        const org = await createOrg(uniqueName("Claimant"));
        const owner = await loginToken(org.email, org.password);
        const claimed = await postJson("/org/domains", { domain }, bearer(owner));
        expect(claimed.status, await claimed.clone().text()).toBe(201);
        const { id } = (await claimed.json()) as { id: string };
        // The policy waits for the verification.
        expect((await patchJson(`/org/domains/${id}`, { policy: "auto_join" }, bearer(owner))).status).toBe(200);
        return { owner, orgId: orgIdOf(owner), id };
      }),
    );
    const crowd = await people(domain, 6, "either");
    const deps = depsFor(database);
    const docs = (await Promise.all(claimants.map((c) => deps.data.collection<DomainDoc>(DOMAINS).findOne({ _id: oid(c.id) })))) as DomainDoc[];
    // Each verified by a lookup that found its own record (what a resolver answers is the domain suites'), while the people try both.
    const [, tries] = await Promise.all([
      Promise.all(docs.map((doc) => recordLookup(deps, doc, { ok: true, records: [doc.value] }, { type: "system" }))),
      Promise.all(crowd.flatMap((person) => claimants.map(async (c) => ({ person, orgId: c.orgId, answer: await joinAs(person, c.orgId) })))),
    ]);
    report(
      "join while two verify",
      tries.map((t) => t.answer),
    );
    const verified = await Promise.all(
      claimants.map(
        async (c) =>
          (
            await storeClient(database)
              .collection<DomainDoc>(DOMAINS)
              .findOne({ _id: oid(c.id) })
          )?.status,
      ),
    );
    expect(verified.filter((s) => s === "verified")).toHaveLength(1);
    const winner = claimants[verified.indexOf("verified")] as (typeof claimants)[number];
    const loser = claimants[1 - verified.indexOf("verified")] as (typeof claimants)[number];
    expect((await organization(loser.orgId))?.domain_policies?.[loser.id]?.verified).toBeUndefined();
    for (const { orgId, answer } of tries) {
      expectAnswered(answer, 201, JOIN, [404, 409]);
      if (answer.status === 201) expect(orgId).toBe(winner.orgId);
    }
    // Everyone not in yet joins the one that verified (one already in is told so); the other refuses them.
    for (const person of crowd) {
      const into = await joinAs(person, winner.orgId);
      expect([201, 409]).toContain(into.status);
      expect((await joinAs(person, loser.orgId)).status).toBe(404);
    }
    const [won, lost] = await Promise.all([organization(winner.orgId), organization(loser.orgId)]);
    for (const person of crowd) {
      await expectWhole(won, winner.orgId, person, true);
      expect(lists(await accountOf(person), loser.orgId)).toBe(0);
    }
    expect(Object.keys(lost?.members ?? {})).toHaveLength(1);
    await expectSettled();
  });
});

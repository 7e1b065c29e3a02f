import { ObjectId } from "bson";
import { expect, inject } from "vitest";
import { type Account, type AccountDoc, attemptKey, findAccount, joinAccount, openAccount, USERS } from "../../src/domain/accounts/accounts";
import { signUp } from "../../src/domain/accounts/signup";
import { createApiKey, revokeApiKey } from "../../src/domain/api-keys/api-keys";
import { changePassword, login } from "../../src/domain/auth/auth";
import { newLink } from "../../src/domain/auth/mailed-link";
import { confirmPasswordReset, requestPasswordReset } from "../../src/domain/auth/password-reset";
import { confirmEmailVerification, requestEmailVerification } from "../../src/domain/auth/verify-email";
import { claimDomain, DOMAINS, type DomainDoc, deleteDomain, recordLookup } from "../../src/domain/domains/domains";
import { approveJoinRequest, joinOnVerification, joinSuggested } from "../../src/domain/domains/joining";
import { setDomainPolicy } from "../../src/domain/domains/policies";
import { organizationEvents, publishOperation } from "../../src/domain/events/outbox";
import { acceptInvitation } from "../../src/domain/invitations/accept";
import { createInvitation, INVITATIONS, type InvitationDoc, revokeInvitation } from "../../src/domain/invitations/invitations";
import { mailedHash } from "../../src/domain/invitations/mail";
import type { Deps } from "../../src/domain/kernel/deps";
import type { EventType } from "../../src/domain/kernel/model";
import { type MemberRecord, memberOf, ORGANIZATION_INDEXES, type OrganizationDoc } from "../../src/domain/kernel/model";
import { idSecret, randomSecret } from "../../src/domain/kernel/one-time-secret";
import { runForRequest } from "../../src/domain/kernel/operation";
import type { Principal } from "../../src/domain/kernel/principal";
import { permissionsOfRole } from "../../src/domain/kernel/roles";
import { collectionNameFor } from "../../src/domain/kernel/slug";
import { MAIL_OUTBOX, type MailDoc, type MailKind } from "../../src/domain/mail/outbox";
import { assignRoles, removeMember } from "../../src/domain/members/members";
import { createOrganization, deleteOrganization, renameOrganization } from "../../src/domain/organizations/lifecycle";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { createRole } from "../../src/domain/roles/roles";
import { createWebhook, deleteWebhook, WEBHOOKS, type WebhookDoc } from "../../src/domain/webhooks/endpoints";
import { disableEndpoint } from "../../src/domain/webhooks/send";
import { ownerOf } from "../helpers";
import { checkAccounts, depsFor } from "./faults";

/**
 * What the crash matrix (crash-matrix.test.ts) runs for each declared operation: a world made on a
 * healthy store, the request that runs the operation (on the crashing store), and what must hold
 * once the reconciler ran: the operation happened whole, or not at all, and its events with it.
 */
export interface Scenario<World = unknown> {
  setUp: (database: string) => Promise<World>;
  start: (deps: Deps, world: World) => Promise<unknown>;
  check: (deps: Deps, world: World) => Promise<void>;
}

const scenario = <World>(declared: Scenario<World>): Scenario => declared as unknown as Scenario;

const PASSWORD = "Test1234";
const TENANT_DOCS = 3;
// The suites' loopback receiver answers this unknown name 404 at once: no delivery leaves the machine.
const HOOK_URL = () => `${inject("receiverUrl")}/hooks/crash-matrix-unregistered`;

interface Org {
  owner: Principal;
  email: string;
}

/** An organization "Acme" with its owner and a few records, made whole on the healthy store. */
const acme = async (database: string): Promise<Org> => {
  const healthy = depsFor(database);
  await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
  const email = "owner@acme.example.com";
  await createOrganization(healthy, { organization_name: "Acme", email, password: PASSWORD });
  const tenant = healthy.data.collection(collectionNameFor("acme"));
  for (let n = 0; n < TENANT_DOCS; n++) await tenant.insertOne({ n });
  const org = (await healthy.organizations.findOne({ slug: "acme" })) as OrganizationDoc;
  return { owner: ownerOf(org), email };
};

/** Accounts and memberships agree, and no tenant collection is left without its organization. */
const consistent = async (deps: Deps): Promise<OrganizationDoc[]> => {
  const orgs = await deps.organizations.find({});
  await checkAccounts(deps, orgs);
  const collections = (await deps.data.listCollections()).map((c) => c.name).filter((name) => name.startsWith("org_"));
  expect(collections.sort()).toEqual(orgs.map((org) => org.collection_name).sort());
  for (const org of orgs) expect(org.status).toBe("active");
  // An invitation stored with a mailed link is an invitation mailed.
  const mailedLinks = await deps.data.collection<InvitationDoc>(INVITATIONS).find({ mail_token_hash: { $exists: true } });
  for (const { mail_id } of mailedLinks) expect(await deps.data.collection(MAIL_OUTBOX).countDocuments({ _id: mail_id }), "its message is queued").toBe(1);
  return orgs;
};

/** How often the organization's feed lists events of `type`, after checking it numbers them without a gap or a repeat. */
const countInFeed = async (deps: Deps, owner: Principal, type: EventType): Promise<number> => {
  const { events } = await organizationEvents(deps, owner, { limit: 200 });
  expect(events.map((e) => Number(e.cursor))).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  return events.filter((e) => e.type === type).length;
};

/** Nothing is left carried for a relay: no event, no message. */
const nothingCarried = async (deps: Deps) => {
  for (const collection of [INVITATIONS, WEBHOOKS, USERS]) {
    for (const field of ["carried", "carried_mail"]) {
      expect(await deps.data.collection(collection).countDocuments({ [`${field}.0`]: { $exists: true } }), `${collection} carry no ${field}`).toBe(0);
    }
  }
};

/** Messages of `kind` to `to` in the mail outbox (none is sent here: no dispatcher runs). */
const mailed = (deps: Deps, kind: MailKind, to: string) => deps.data.collection<MailDoc>(MAIL_OUTBOX).countDocuments({ kind, "message.to.email": to });

const freshOwner = async (deps: Deps, owner: Principal): Promise<Principal> =>
  ownerOf((await deps.organizations.findOne({ _id: owner.orgId })) as OrganizationDoc);

/** A member who joined through the healthy store. */
const withMember = async (database: string) => {
  const org = await acme(database);
  const healthy = depsFor(database);
  const { token } = await createInvitation(healthy, org.owner, { email: "member@example.com", role: "member" });
  await acceptInvitation(healthy, { token, password: PASSWORD });
  const doc = (await healthy.organizations.findOne({ _id: org.owner.orgId })) as OrganizationDoc;
  const member = Object.values(doc.members).find((m) => m.email === "member@example.com");
  return { ...org, member: member?.user_id as ObjectId };
};

const indexesOnly = async (database: string) => {
  await depsFor(database).organizations.createIndexes(ORGANIZATION_INDEXES);
  return {};
};

const createFresh = (deps: Deps) => createOrganization(deps, { organization_name: "Fresh", email: "owner@fresh.example.com", password: PASSWORD });

const checkCreated = async (deps: Deps) => {
  const orgs = await consistent(deps);
  const fresh = orgs.find((org) => org.slug === "fresh");
  // Its account exists exactly when it does (consistent() checks both ways), and it can log in.
  if (fresh) await login(deps, "owner@fresh.example.com", PASSWORD);
  expect(await deps.data.collection(USERS).countDocuments({ user_id: { $exists: true } })).toBe(fresh ? 1 : 0);
};

const created = scenario({ setUp: indexesOnly, start: createFresh, check: checkCreated });

const renamed = scenario<Org>({
  setUp: acme,
  start: (deps, { owner }) => renameOrganization(deps, { organization_name: "Acme", new_organization_name: "Apex" }, { kind: "token", principal: owner }),
  check: async (deps, { owner }) => {
    const [org] = await consistent(deps);
    expect(["acme", "apex"]).toContain(org?.slug);
    expect(await deps.data.collection(org?.collection_name ?? "").countDocuments()).toBe(TENANT_DOCS);
    expect(await countInFeed(deps, owner, "organization.renamed")).toBe(org?.slug === "apex" ? 1 : 0);
  },
});

const deleted = scenario<Org>({
  // With a pending invitation, mailed: its message goes with the organization too.
  setUp: (database) => withInvitation(database),
  start: (deps, { owner }) => deleteOrganization(deps, "Acme", owner),
  check: async (deps, { owner }) => {
    // A delete, once marked, always finishes: nothing of the organization is left anywhere.
    const orgs = await consistent(deps);
    if (orgs.length === 0) {
      for (const name of ["users", "events", "invitations", WEBHOOKS, MAIL_OUTBOX]) expect(await deps.data.collection(name).countDocuments({}), name).toBe(0);
    } else expect(await countInFeed(deps, owner, "organization.deleted")).toBe(0);
  },
});

const membershipEnded = scenario<Org & { member: ObjectId }>({
  setUp: withMember,
  start: (deps, { owner, member }) => removeMember(deps, owner, member),
  check: async (deps, { owner, member }) => {
    const [org] = await consistent(deps);
    const stays = org ? memberOf(org, member) !== undefined : false;
    expect(org?.departures ?? []).toEqual([]);
    expect(await countInFeed(deps, owner, "member.removed")).toBe(stays ? 0 : 1);
  },
});

const accepted = scenario<Org & { token: string }>({
  setUp: async (database) => {
    const org = await acme(database);
    const { token } = await createInvitation(depsFor(database), org.owner, { email: "guest@example.com", role: "member" });
    return { ...org, token };
  },
  start: (deps, { token }) => acceptInvitation(deps, { token, password: PASSWORD }),
  check: async (deps, { owner }) => {
    const [org] = await consistent(deps);
    const joined = Object.values(org?.members ?? {}).some((m) => m.email === "guest@example.com");
    const invitation = await deps.data.collection<InvitationDoc>(INVITATIONS).findOne({ email_key: "guest@example.com" });
    // Joined and the invitation gone, or not joined and the invitation pending again (no claim left).
    expect(invitation === null).toBe(joined);
    expect(invitation?.claim).toBeUndefined();
    expect(await countInFeed(deps, owner, "member.joined")).toBe(joined ? 1 : 0);
  },
});

/**
 * Accounts whose operation died before writing its own marker: a create that reserved a new
 * account before its insert, and an owner's account that gained an organization never created.
 * Only the reconciler meets them, so it is what runs here.
 */
const joined = scenario<Org>({
  setUp: async (database) => {
    const org = await acme(database);
    const healthy = depsFor(database);
    const never = new ObjectId();
    const user_id = new ObjectId();
    await openAccount(healthy, await attemptKey("stray@example.com"), { user_id, email: "stray@example.com", password_hash: "x", org_id: never });
    await joinAccount(healthy, org.owner.userId, never);
    return org;
  },
  start: (deps) => reconcile(deps, new Date(Date.now() + 60_000)),
  check: async (deps) => {
    await consistent(deps);
    expect(await deps.data.collection(USERS).countDocuments({ email: "stray@example.com" })).toBe(0);
    expect(await deps.data.collection<AccountDoc>(USERS).countDocuments({ joining_at: { $exists: true } })).toBe(0);
  },
});

/**
 * A change relayed from a document that carries it: once settled, nothing is left carried, and
 * what it relays (`relayed`: how many there are of it) is there once exactly when the change happened.
 */
const relayedOnce = <World extends Org>(declared: {
  setUp?: (database: string) => Promise<World>;
  start: (deps: Deps, world: World) => Promise<unknown>;
  happened: (deps: Deps, world: World) => Promise<boolean>;
  relayed: (deps: Deps, world: World) => Promise<number>;
}) =>
  scenario<World>({
    setUp: declared.setUp ?? (acme as (database: string) => Promise<World>),
    start: declared.start,
    check: async (deps, world) => {
      await consistent(deps);
      await nothingCarried(deps);
      const happened = await declared.happened(deps, world);
      expect(await declared.relayed(deps, world)).toBe(happened ? 1 : 0);
    },
  });

/** A change carrying its event on another document: the event is in the feed, once, exactly when the change happened. */
const carried = <World extends Org>(declared: {
  setUp?: (database: string) => Promise<World>;
  start: (deps: Deps, world: World) => Promise<unknown>;
  type: EventType;
  happened: (deps: Deps, world: World) => Promise<boolean>;
}) => relayedOnce<World>({ ...declared, relayed: async (deps, world) => countInFeed(deps, await freshOwner(deps, world.owner), declared.type) });

/** A change that asks for mail: its message is queued, once, exactly when the change happened. */
const mailing = <World extends Org>(declared: {
  setUp?: (database: string) => Promise<World>;
  start: (deps: Deps, world: World) => Promise<unknown>;
  kind: MailKind;
  to: (world: World) => string;
  happened: (deps: Deps, world: World) => Promise<boolean>;
}) => relayedOnce<World>({ ...declared, relayed: (deps, world) => mailed(deps, declared.kind, declared.to(world)) });

const passwordChanged = (deps: Deps, { email }: Org) =>
  login(deps, email, "Brand-new-9").then(
    () => true,
    () => false,
  );

/** An owner holding an open reset link, and its token. */
const withResetLink = async (database: string) => {
  const org = await acme(database);
  const { token, pending } = await newLink(org.owner.userId, new Date(Date.now() + 600_000));
  await depsFor(database)
    .data.collection<AccountDoc>(USERS)
    .updateOne({ user_id: org.owner.userId }, { $set: { password_reset: pending } });
  return { ...org, link: token };
};

const ownAccount = (deps: Deps, { owner }: Org) => deps.data.collection<AccountDoc>(USERS).findOne({ user_id: owner.userId });

const withInvitation = async (database: string) => {
  const org = await acme(database);
  const { id } = await createInvitation(depsFor(database), org.owner, { email: "guest@example.com", role: "member" });
  return { ...org, invitation: ObjectId.createFromHexString(id) };
};

const withWebhook = async (database: string) => {
  const org = await acme(database);
  const { id } = await createWebhook(depsFor(database), org.owner, { url: HOOK_URL() });
  return { ...org, hook: ObjectId.createFromHexString(id) };
};

const hookOf = (deps: Deps, id: ObjectId) => deps.data.collection<WebhookDoc>(WEBHOOKS).findOne({ _id: id });

const domainOf = (deps: Deps, id: ObjectId) => deps.data.collection<DomainDoc>(DOMAINS).findOne({ _id: id });

/** A claimed domain, pending; verified too when asked (as a lookup that found its record leaves it). */
const withDomain = (verified: boolean) => async (database: string) => {
  const org = await acme(database);
  const deps = depsFor(database);
  const { id } = await claimDomain(deps, org.owner, "acme.test");
  const domain = ObjectId.createFromHexString(id);
  if (verified) {
    await deps.data
      .collection<DomainDoc>(DOMAINS)
      .updateOne({ _id: domain }, { $set: { status: "verified", verified_domain: "acme.test", verified_at: new Date(), checked_at: new Date() } });
  }
  return { ...org, domain };
};

interface Joinable extends Org {
  /** The account opened by sign-up at the organization's verified domain, its address proven. */
  joiner: ObjectId;
  /** An open verification link of the joiner's address, for the join that verifying it starts. */
  link: string;
}

const JOINER = "dana@acme.test";

/**
 * Acme verified acme.test (a lookup that found its record) with this policy, and someone there
 * signed up; under `suggest`, they asked to join (and the policy became `later` since). Their address is proven unless `unproven`, and a
 * verification link of theirs is open either way. The work after each answer (relays, the mailed
 * link) is waited for, so nothing of the set-up is still running when the scenario starts.
 */
const withJoiner =
  (policy: "auto_join" | "suggest", options: { unproven?: true; later?: "auto_join" } = {}) =>
  async (database: string): Promise<Joinable> => {
    const org = await acme(database);
    const tasks: Promise<unknown>[] = [];
    const healthy: Deps = { ...depsFor(database), background: (task) => void tasks.push(task(depsFor(database)).catch(() => {})) };
    const { id } = await claimDomain(healthy, org.owner, "acme.test");
    const domain = ObjectId.createFromHexString(id);
    const doc = (await domainOf(healthy, domain)) as DomainDoc;
    await recordLookup(healthy, doc, { ok: true, records: [doc.value] }, { type: "system" });
    await setDomainPolicy(healthy, org.owner, domain, { policy });
    const joiner = ObjectId.createFromHexString((await signUp(healthy, JOINER, PASSWORD)).user_id);
    await Promise.all(tasks);
    const { token, pending } = await newLink(joiner, new Date(Date.now() + 600_000));
    const users = healthy.data.collection<AccountDoc>(USERS);
    await users.updateOne({ user_id: joiner }, { $set: { email_verification: pending, ...(options.unproven ? {} : { email_verified: true }) } });
    if (policy === "suggest") await joinSuggested(healthy, await joinerOf(healthy, joiner), org.owner.orgId);
    if (options.later) await setDomainPolicy(healthy, org.owner, domain, { policy: options.later });
    await Promise.all(tasks);
    return { ...org, joiner, link: token };
  };

/**
 * A member whose `member:invite` comes from a role of the organization's own ("gatekeeper", with
 * all a member may do), as their token names them: they approve as a member only.
 */
const withGatekeeper = async (database: string, world: Joinable): Promise<Joinable & { gatekeeper: Principal }> => {
  const healthy = depsFor(database);
  await createRole(healthy, world.owner, { name: "gatekeeper", permissions: ["member:invite", ...permissionsOfRole("member")] });
  const { token } = await createInvitation(healthy, world.owner, { email: "keeper@example.com", role: "member" });
  await acceptInvitation(healthy, { token, password: PASSWORD });
  const doc = (await healthy.organizations.findOne({ _id: world.owner.orgId })) as OrganizationDoc;
  const keeper = Object.values(doc.members).find((m) => m.email === "keeper@example.com") as MemberRecord;
  await assignRoles(healthy, world.owner, keeper.user_id, ["member", "gatekeeper"]);
  const after = memberOf((await healthy.organizations.findOne({ _id: world.owner.orgId })) as OrganizationDoc, keeper.user_id) as MemberRecord;
  const gatekeeper: Principal = {
    orgId: world.owner.orgId,
    userId: keeper.user_id,
    tokenVersion: after.token_version,
    role: "member",
    customRoles: ["gatekeeper"],
  };
  return { ...world, gatekeeper };
};

const joinerOf = async (deps: Deps, joiner: ObjectId) => {
  const account = await findAccount(deps, joiner);
  if (!account) throw new Error("the joiner's account is gone");
  return account;
};

/**
 * A join by domain happened whole or not at all: a member whose account lists the organization, or
 * no member and an account that does not list it (consistent() checks both ways); the account
 * stays either way (sign-up opened it), no marker is left, and the member.joined event is in the
 * feed exactly when the member is. `requested`: the join request is gone exactly when they joined.
 */
const checkJoined =
  (requested: boolean) =>
  async (deps: Deps, { owner, joiner }: Joinable) => {
    const [org] = await consistent(deps);
    const member = org ? memberOf(org, joiner) : undefined;
    const account = await joinerOf(deps, joiner);
    expect(account.domain_join).toBeUndefined();
    expect(account.org_ids.some((id) => id.equals(owner.orgId))).toBe(member !== undefined);
    if (member) expect(member).toMatchObject({ email: JOINER, role: "member" });
    // The joiner's member.joined, once (others may have joined before: an approver by invitation).
    await countInFeed(deps, owner, "member.joined");
    const { events } = await organizationEvents(deps, owner, { limit: 200 });
    const joinedEvents = events.filter((e) => e.type === "member.joined" && e.data.user_id === joiner.toHexString());
    expect(joinedEvents).toHaveLength(member ? 1 : 0);
    const pending = (org?.join_requests ?? []).some((r) => r.user_id.equals(joiner));
    expect(pending).toBe(requested && member === undefined);
  };

/** Every declared operation's scenario, by the operation's kind (src/domain/operations.ts). */
export const SCENARIOS: Record<string, Scenario> = {
  "organization.create": created,
  "organization.rename": renamed,
  "organization.delete": deleted,
  "membership.end": membershipEnded,
  "invitation.accept": accepted,
  "account.join": joined,
  "invitation.create": carried({
    start: (deps, { owner }) => createInvitation(deps, owner, { email: "guest@example.com", role: "member" }),
    type: "invitation.created",
    happened: async (deps) => (await deps.data.collection(INVITATIONS).countDocuments({ email_key: "guest@example.com" })) > 0,
  }),
  "invitation.revoke": carried({
    setUp: withInvitation,
    start: (deps, { owner, invitation }) => revokeInvitation(deps, owner, invitation),
    type: "invitation.revoked",
    happened: async (deps, { invitation }) => {
      const left = await deps.data.collection<InvitationDoc>(INVITATIONS).findOne({ _id: invitation });
      // Revoked means gone: a revoked invitation left behind would be a half-done revoke.
      if (left) expect(left.revoked).toBeUndefined();
      return left === null;
    },
  }),
  "webhook.create": carried({
    start: (deps, { owner }) => createWebhook(deps, owner, { url: HOOK_URL() }),
    type: "webhook.created",
    happened: async (deps, { owner }) => (await deps.data.collection(WEBHOOKS).countDocuments({ org_id: owner.orgId })) > 0,
  }),
  "webhook.delete": carried({
    setUp: withWebhook,
    start: (deps, { owner, hook }) => deleteWebhook(deps, owner, hook),
    type: "webhook.deleted",
    happened: async (deps, { hook }) => {
      const left = await hookOf(deps, hook);
      if (left) expect(left.deleted).toBeUndefined();
      return left === null;
    },
  }),
  "webhook.disable": carried({
    setUp: withWebhook,
    start: async (deps, { hook }) => disableEndpoint(deps, (await hookOf(deps, hook)) as WebhookDoc, "it keeps failing"),
    type: "webhook.disabled",
    happened: async (deps, { hook }) => (await hookOf(deps, hook))?.status === "disabled",
  }),
  "domain.claim": carried({
    start: (deps, { owner }) => claimDomain(deps, owner, "acme.test"),
    type: "domain.claimed",
    happened: async (deps, { owner }) => (await deps.data.collection(DOMAINS).countDocuments({ org_id: owner.orgId })) > 0,
  }),
  // What the lookup found is the resolver's (the domain suites ask a real one); here, the record as published, then gone.
  "domain.verify": carried({
    setUp: withDomain(false),
    start: async (deps, { domain }) => {
      const doc = (await domainOf(deps, domain)) as DomainDoc;
      return recordLookup(deps, doc, { ok: true, records: [doc.value] }, { type: "system" });
    },
    type: "domain.verified",
    happened: async (deps, { domain }) => (await domainOf(deps, domain))?.status === "verified",
  }),
  "domain.lapse": carried({
    setUp: withDomain(true),
    start: async (deps, { domain }) => recordLookup(deps, (await domainOf(deps, domain)) as DomainDoc, { ok: true, records: [] }, { type: "system" }),
    type: "domain.lapsed",
    happened: async (deps, { domain }) => {
      const doc = await domainOf(deps, domain);
      // Lapsed means released: a lapsed domain still holding the name would keep others from verifying it.
      if (doc?.status === "lapsed") expect(doc.verified_domain).toBeUndefined();
      return doc?.status === "lapsed";
    },
  }),
  "domain.delete": carried({
    setUp: withDomain(true),
    start: (deps, { owner, domain }) => deleteDomain(deps, owner, domain),
    type: "domain.deleted",
    happened: async (deps, { domain }) => {
      const left = await domainOf(deps, domain);
      if (left) expect(left.deleted).toBeUndefined();
      return left === null;
    },
  }),
  // A verified address joining an auto_join domain's organization on request.
  "domain.join": scenario<Joinable>({
    setUp: withJoiner("auto_join"),
    start: async (deps, { owner, joiner }) => joinSuggested(deps, await joinerOf(deps, joiner), owner.orgId),
    check: checkJoined(false),
  }),
  "password.change": carried({
    start: (deps, { owner }) => changePassword(deps, owner, PASSWORD, "Brand-new-9"),
    type: "admin.password_changed",
    happened: passwordChanged,
  }),
  "invitation.mail": mailing({
    start: (deps, { owner }) => createInvitation(deps, owner, { email: "guest@example.com", role: "member" }),
    kind: "invitation",
    to: () => "guest@example.com",
    happened: async (deps) => {
      const invitation = await deps.data.collection<InvitationDoc>(INVITATIONS).findOne({ email_key: "guest@example.com" });
      // Its message is the one the invitation names, for the delivery status the listing shows.
      if (invitation) expect(await deps.data.collection(MAIL_OUTBOX).countDocuments({ _id: invitation.mail_id })).toBe(1);
      return invitation !== null;
    },
  }),
  "account.mail": mailing({
    start: (deps, { email }) => requestPasswordReset(deps, email),
    kind: "password_reset",
    to: ({ email }) => email,
    // A link set is a link mailed.
    happened: async (deps, world) => (await ownAccount(deps, world))?.password_reset !== undefined,
  }),
  "events.publish": scenario<Org & { kept: string; revoked: string }>({
    // A rename, an API key created and another created then revoked, whose publishers never ran
    // (work after their answers dropped): each one's event waits in the outbox, its change made.
    setUp: async (database) => {
      const org = await acme(database);
      const unpublished = { ...depsFor(database), background: () => {} };
      await renameOrganization(unpublished, { organization_name: "Acme", new_organization_name: "Apex" }, { kind: "token", principal: org.owner });
      const kept = await createApiKey(unpublished, org.owner, { name: "kept", scopes: ["records:read"] });
      const revoked = await createApiKey(unpublished, org.owner, { name: "revoked", scopes: ["records:read"] });
      await revokeApiKey(unpublished, org.owner, revoked.id);
      return { ...org, kept: kept.id, revoked: revoked.id };
    },
    start: (deps, { owner }) => runForRequest(publishOperation, deps, { _id: owner.orgId }),
    check: async (deps, { owner, kept, revoked }) => {
      await consistent(deps);
      expect(await countInFeed(deps, owner, "organization.renamed")).toBe(1);
      expect(await countInFeed(deps, owner, "api_key.created")).toBe(2);
      expect(await countInFeed(deps, owner, "api_key.revoked")).toBe(1);
      const org = (await deps.organizations.findOne({ _id: owner.orgId })) as OrganizationDoc;
      expect(org.outbox ?? []).toEqual([]);
      expect(Object.keys(org.api_keys ?? {})).toEqual([kept]);
      expect(org.api_keys?.[revoked]).toBeUndefined();
    },
  }),
};

/**
 * Requests other than the scenario's own that start a declared operation: the matrix cuts each of
 * them at every step of that operation too. A password reset is a password change started by a
 * mailed link instead of the current password.
 */
export const ALSO_STARTED_BY: Record<string, Record<string, Scenario>> = {
  "invitation.accept": {
    // Accepted from the mailed link: the same accept, which also verifies the joiner's address.
    "the mailed link": scenario<Org & { token: string }>({
      setUp: async (database) => {
        const org = await acme(database);
        const healthy = depsFor(database);
        const { id } = await createInvitation(healthy, org.owner, { email: "guest@example.com", role: "member" });
        const invitation = ObjectId.createFromHexString(id);
        const secret = randomSecret();
        await healthy.data
          .collection<InvitationDoc>(INVITATIONS)
          .updateOne({ _id: invitation }, { $set: { mail_token_hash: await mailedHash(invitation, secret) } });
        return { ...org, token: idSecret(invitation, secret) };
      },
      start: (deps, { token }) => acceptInvitation(deps, { token, password: PASSWORD }),
      check: async (deps, world) => {
        await accepted.check(deps, world);
        const [org] = await consistent(deps);
        const guest = Object.values(org?.members ?? {}).find((m) => m.email === "guest@example.com");
        const account = await deps.data.collection<AccountDoc>(USERS).findOne({ _id: await attemptKey("guest@example.com") });
        // Verified exactly when joined: the mark is part of the accept's first step, run again after a crash.
        expect(account?.email_verified === true).toBe(guest !== undefined);
      },
    }),
  },
  "domain.join": {
    // An owner approving the request of someone at a suggest domain.
    "an approval": scenario<Joinable>({
      setUp: withJoiner("suggest"),
      start: (deps, { owner, joiner }) => approveJoinRequest(deps, owner, joiner, "member"),
      check: checkJoined(true),
    }),
    // A member approving by a role of the organization's own: the update adding the requester checks that the approver and the roles are as read.
    "an approval by a holder of the organization's own role": scenario<Joinable & { gatekeeper: Principal }>({
      setUp: async (database) => withGatekeeper(database, await withJoiner("suggest")(database)),
      start: (deps, { gatekeeper, joiner }) => approveJoinRequest(deps, gatekeeper, joiner, "member"),
      check: checkJoined(true),
    }),
    // A join on request at a domain that asked for approval when they asked and lets them in now: their request goes with the join.
    "a join after asking under suggest": scenario<Joinable>({
      setUp: withJoiner("suggest", { later: "auto_join" }),
      start: async (deps, { owner, joiner }) => joinSuggested(deps, await joinerOf(deps, joiner), owner.orgId),
      check: checkJoined(true),
    }),
    // Following the mailed link at an auto_join domain: the address proven, then the join.
    "the address's verification": scenario<Joinable>({
      setUp: withJoiner("auto_join", { unproven: true }),
      start: async (deps, { link }) => joinOnVerification(deps, await confirmEmailVerification(deps, link)),
      check: async (deps, world) => {
        await checkJoined(false)(deps, world);
        // Proven whatever became of the join: the verification was answered before it began.
        expect((await joinerOf(deps, world.joiner)).email_verified).toBe(true);
      },
    }),
  },
  "password.change": {
    "a password reset link": carried<Org & { link: string }>({
      setUp: withResetLink,
      start: (deps, { link }) => confirmPasswordReset(deps, link, "Brand-new-9"),
      type: "admin.password_changed",
      happened: async (deps, world) => {
        const changed = await passwordChanged(deps, world);
        // Spent exactly when the password changed: a reset that did not happen leaves its link open.
        expect((await ownAccount(deps, world))?.password_reset === undefined).toBe(changed);
        return changed;
      },
    }),
  },
  "account.mail": {
    // The notice after a change: mailed exactly when the password changed.
    "a password change": mailing({
      start: (deps, { owner }) => changePassword(deps, owner, PASSWORD, "Brand-new-9"),
      kind: "password_changed",
      to: ({ email }) => email,
      happened: passwordChanged,
    }),
    "a password reset link": mailing<Org & { link: string }>({
      setUp: withResetLink,
      start: (deps, { link }) => confirmPasswordReset(deps, link, "Brand-new-9"),
      kind: "password_changed",
      to: ({ email }) => email,
      happened: passwordChanged,
    }),
    "a verification request": mailing({
      start: async (deps, world) => requestEmailVerification(deps, (await ownAccount(deps, world)) as Account),
      kind: "email_verification",
      to: ({ email }) => email,
      happened: async (deps, world) => (await ownAccount(deps, world))?.email_verification !== undefined,
    }),
  },
};

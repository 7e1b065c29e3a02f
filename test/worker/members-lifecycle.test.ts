import type { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { type AccountDoc, attemptKey, USERS } from "../../src/domain/accounts/accounts";
import { login } from "../../src/domain/auth/auth";
import { acceptInvitation } from "../../src/domain/invitations/accept";
import { createInvitation, INVITATIONS, type InvitationDoc } from "../../src/domain/invitations/invitations";
import type { Deps } from "../../src/domain/kernel/deps";
import { memberOf, ORGANIZATION_INDEXES, type OrganizationDoc } from "../../src/domain/kernel/model";
import type { Principal } from "../../src/domain/kernel/principal";
import type { Role } from "../../src/domain/kernel/roles";
import { removeMember } from "../../src/domain/members/members";
import { createOrganization, deleteOrganization } from "../../src/domain/organizations/lifecycle";
import { reactivateOrganization, suspendOrganization } from "../../src/domain/platform/suspension";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { ownerOf } from "../helpers";
import { checkAccounts, depsFor, faults, freshDatabase } from "./faults";

/**
 * The membership operations cut off at every call, as lifecycle.test.ts does for create, rename and
 * delete: the call never arrives, or it is applied and the answer lost. After the reconciler,
 * accounts and memberships agree, and each operation either happened whole or not at all.
 */

const PASSWORD = "Member-1234";

const setUp = async (name: string) => {
  const database = freshDatabase();
  const healthy = depsFor(database);
  await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
  const email = `owner@${name.toLowerCase()}.example.com`;
  await createOrganization(healthy, { organization_name: name, email, password: "Test1234" });
  const org = (await healthy.organizations.findOne({ slug: name.toLowerCase() })) as OrganizationDoc;
  return { database, healthy, email, owner: ownerOf(org), org };
};

/** A person joins through the healthy store: invited, then accepted. */
const joinAs = async (deps: Deps, owner: Principal, email: string, role: Role = "member") => {
  const { token } = await createInvitation(deps, owner, { email, role });
  await acceptInvitation(deps, { token, password: PASSWORD });
  const org = (await deps.organizations.findOne({ _id: owner.orgId })) as OrganizationDoc;
  const member = Object.values(org.members).find((m) => m.email === email);
  if (!member) throw new Error(`${email} did not join`);
  return { orgId: owner.orgId, userId: member.user_id, tokenVersion: member.token_version, role } as Principal;
};

const settle = async (deps: Deps) => {
  await reconcile(deps, new Date(Date.now() + 60_000));
  const orgs = await deps.organizations.find({});
  await checkAccounts(deps, orgs);
  return orgs;
};

const accountOf = async (deps: Deps, email: string) => deps.data.collection<AccountDoc>(USERS).findOne({ _id: await attemptKey(email) });

describe("accepting an invitation as a new account survives a failure at every step", () => {
  // Read the invitation, count the attempt and look for an account, claim, open the account, join the organization, remove the invitation.
  it.each(faults(6))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, owner } = await setUp("Joinable");
    const email = "joiner@example.com";
    const { token } = await createInvitation(healthy, owner, { email, role: "admin" });
    await expect(acceptInvitation(depsFor(database, fault), { token, password: PASSWORD })).rejects.toThrow();
    const [org] = await settle(healthy);
    const joined = org && Object.values(org.members).find((m) => m.email === email);
    const pending = await healthy.data.collection<InvitationDoc>(INVITATIONS).findOne({ email });
    if (joined) {
      // It happened whole: the member, their account with the password given, no invitation left.
      expect(joined.role).toBe("admin");
      expect(pending).toBeNull();
      await expect(login(healthy, email, PASSWORD)).resolves.toMatchObject({ token_type: "bearer" });
    } else {
      // Not at all: no account, and the invitation is still there to accept.
      expect(await accountOf(healthy, email)).toSatisfy((doc: AccountDoc | null) => !doc?.user_id);
      expect(pending?.claim).toBeUndefined();
      await expect(acceptInvitation(healthy, { token, password: PASSWORD })).resolves.toMatchObject({ token_type: "bearer" });
    }
  });
});

describe("an accept cut off at every step, then its organization suspended", () => {
  // The same six calls; the operator suspends before the reconciler runs.
  it.each(faults(6))("fails at call $failAt ($mode): joined whole or pending again, never half", async (fault) => {
    const { database, healthy, owner } = await setUp("Frozen");
    const email = "late-joiner@example.com";
    const { token } = await createInvitation(healthy, owner, { email, role: "member" });
    await expect(acceptInvitation(depsFor(database, fault), { token, password: PASSWORD })).rejects.toThrow();
    await suspendOrganization(healthy, owner.orgId, "unpaid", "ops-write");
    const [org] = await settle(healthy);
    expect(org?.suspended).toBe(true);
    const joined = org && Object.values(org.members).find((m) => m.email === email);
    const pending = await healthy.data.collection<InvitationDoc>(INVITATIONS).findOne({ email });
    if (joined) {
      // It got as far as the membership before the suspension: whole, the invitation used.
      expect(pending).toBeNull();
      await expect(login(healthy, email, PASSWORD)).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
    } else {
      // Nobody joins a suspended organization: no account, the invitation pending again.
      expect(await accountOf(healthy, email)).toSatisfy((doc: AccountDoc | null) => !doc?.user_id);
      expect(pending?.claim).toBeUndefined();
      await expect(acceptInvitation(healthy, { token, password: PASSWORD })).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
      expect(await accountOf(healthy, email)).toSatisfy((doc: AccountDoc | null) => !doc?.user_id);
      await reactivateOrganization(healthy, owner.orgId, "test-key");
      await expect(acceptInvitation(healthy, { token, password: PASSWORD })).resolves.toMatchObject({ token_type: "bearer" });
    }
    await checkAccounts(healthy, await healthy.organizations.find({}));
  });
});

describe("accepting an invitation as an existing account survives a failure at every step", () => {
  // Read the invitation, count the attempt and read the account, claim, join the account, join the organization, remove the invitation.
  it.each(faults(6))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, owner } = await setUp("Welcoming");
    // The invitee's account belongs to another organization of the same store.
    await createOrganization(healthy, { organization_name: "Home", email: "guest@example.com", password: PASSWORD });
    const { token } = await createInvitation(healthy, owner, { email: "guest@example.com", role: "member" });
    await expect(acceptInvitation(depsFor(database, fault), { token, password: PASSWORD })).rejects.toThrow();
    const orgs = await settle(healthy);
    const welcoming = orgs.find((o) => o._id.equals(owner.orgId)) as OrganizationDoc;
    const account = await accountOf(healthy, "guest@example.com");
    expect(account?.user_id).toBeDefined();
    if (Object.values(welcoming.members).some((m) => m.email === "guest@example.com")) {
      expect(account?.org_ids).toHaveLength(2);
      await expect(login(healthy, "guest@example.com", PASSWORD, "Welcoming")).resolves.toMatchObject({ token_type: "bearer" });
    } else {
      expect(account?.org_ids).toHaveLength(1);
      await expect(acceptInvitation(healthy, { token, password: PASSWORD })).resolves.toMatchObject({ token_type: "bearer" });
    }
  });
});

describe("removing a member survives a failure at every step", () => {
  it.each(faults(3))("a member of one organization: fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, owner } = await setUp("Shrinking");
    const member = await joinAs(healthy, owner, "leaver@example.com");
    await Promise.allSettled([removeMember(depsFor(database, fault), owner, member.userId)]);
    const [org] = await settle(healthy);
    if (org && memberOf(org, member.userId)) {
      expect((await accountOf(healthy, "leaver@example.com"))?.org_ids).toHaveLength(1);
    } else {
      // Gone, and so is the account: the e-mail is free, the departure record cleared.
      expect(await accountOf(healthy, "leaver@example.com")).toBeNull();
      expect(org?.departures ?? []).toEqual([]);
    }
  });

  it.each(faults(4))("a member of two organizations: fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, owner } = await setUp("Sharing");
    await createOrganization(healthy, { organization_name: "Elsewhere", email: "both@example.com", password: PASSWORD });
    const member = await joinAs(healthy, owner, "both@example.com");
    await Promise.allSettled([removeMember(depsFor(database, fault), owner, member.userId)]);
    const orgs = await settle(healthy);
    const sharing = orgs.find((o) => o._id.equals(owner.orgId)) as OrganizationDoc;
    const account = await accountOf(healthy, "both@example.com");
    // The account stays for the other organization either way.
    expect(account?.org_ids).toHaveLength(memberOf(sharing, member.userId) ? 2 : 1);
  });
});

describe("deleting an organization with members and pending invitations survives a failure at every step", () => {
  // Mark, drop the collection, close the accounts it leaves empty, take it off the others', clear its invitations, remove it.
  it.each(faults(7))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, owner } = await setUp("Crowded");
    await createOrganization(healthy, { organization_name: "Other", email: "stays@example.com", password: PASSWORD });
    await joinAs(healthy, owner, "stays@example.com", "admin");
    await joinAs(healthy, owner, "goes@example.com");
    await createInvitation(healthy, owner, { email: "pending@example.com", role: "member" });
    await createInvitation(healthy, owner, { email: "pending2@example.com", role: "owner" });
    await Promise.allSettled([deleteOrganization(depsFor(database, fault), "Crowded", owner)]);
    const orgs = await settle(healthy);
    const invitations = await healthy.data.collection(INVITATIONS).countDocuments({ org_id: owner.orgId });
    if (orgs.some((o) => o._id.equals(owner.orgId))) {
      expect(invitations).toBe(2);
    } else {
      // Nothing of it is left: no invitation, no account that only it held; the shared account stays with one organization.
      expect(invitations).toBe(0);
      expect(await accountOf(healthy, "goes@example.com")).toBeNull();
      expect(await accountOf(healthy, "owner@crowded.example.com")).toBeNull();
      expect((await accountOf(healthy, "stays@example.com"))?.org_ids).toHaveLength(1);
    }
  });
});

describe("races between membership operations", () => {
  it("an accept cut off at its last step, then its member removed: the reconciler does not bring them back", async () => {
    const { database, healthy, owner } = await setUp("Revenant");
    const { token } = await createInvitation(healthy, owner, { email: "back@example.com", role: "member" });
    // Call 6 removes the used invitation: cut before it, the claim stays behind.
    await expect(acceptInvitation(depsFor(database, { failAt: 6, mode: "before" }), { token, password: PASSWORD })).rejects.toThrow();
    const joined = (await healthy.organizations.findOne({ _id: owner.orgId })) as OrganizationDoc;
    const member = Object.values(joined.members).find((m) => m.email === "back@example.com");
    expect(member).toBeDefined();
    await removeMember(healthy, owner, member?.user_id as ObjectId);
    const [org] = await settle(healthy);
    expect(Object.values(org?.members ?? {}).map((m) => m.email)).toEqual(["owner@revenant.example.com"]);
    expect(await accountOf(healthy, "back@example.com")).toBeNull();
  });

  it("many accepts and a delete at once: every accept is whole or absent, and the deleted organization leaves nothing", async () => {
    const { database, healthy, owner } = await setUp("Stampede");
    const tokens = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => (await createInvitation(healthy, owner, { email: `s${i}@example.com`, role: "member" })).token),
    );
    const results = await Promise.allSettled([
      ...tokens.map((token) => acceptInvitation(depsFor(database), { token, password: PASSWORD })),
      deleteOrganization(depsFor(database), "Stampede", owner),
    ]);
    expect(results.at(-1)?.status).toBe("fulfilled");
    const orgs = await settle(healthy);
    expect(orgs).toHaveLength(0);
    expect(await healthy.data.collection(INVITATIONS).countDocuments({})).toBe(0);
    expect(await healthy.data.collection(USERS).countDocuments({ user_id: { $exists: true } })).toBe(0);
  });

  it("a member removed while accepting an invitation elsewhere keeps an account exactly when they joined", async () => {
    const { database, healthy, owner } = await setUp("Leaving");
    await createOrganization(healthy, { organization_name: "Arriving", email: "host@example.com", password: "Test1234" });
    const arriving = ownerOf((await healthy.organizations.findOne({ slug: "arriving" })) as OrganizationDoc);
    const member = await joinAs(healthy, owner, "mover@example.com");
    const { token } = await createInvitation(healthy, arriving, { email: "mover@example.com", role: "member" });
    const [removed, accepted] = await Promise.allSettled([
      removeMember(depsFor(database), owner, member.userId),
      acceptInvitation(depsFor(database), { token, password: PASSWORD }),
    ]);
    expect(removed.status).toBe("fulfilled");
    const orgs = await settle(healthy);
    const target = orgs.find((o) => o.slug === "arriving") as OrganizationDoc;
    const joined = Object.values(target.members).some((m) => m.email === "mover@example.com");
    expect(joined).toBe(accepted.status === "fulfilled");
    const account = await accountOf(healthy, "mover@example.com");
    expect(Boolean(account?.user_id)).toBe(joined);
    if (!joined) expect(await healthy.data.collection<InvitationDoc>(INVITATIONS).findOne({ email: "mover@example.com" })).toMatchObject({ role: "member" });
  });
});

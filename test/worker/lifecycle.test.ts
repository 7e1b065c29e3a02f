import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { USERS } from "../../src/domain/accounts/accounts";
import { login } from "../../src/domain/auth/auth";
import type { Deps } from "../../src/domain/kernel/deps";
import { AppError } from "../../src/domain/kernel/errors";
import { ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import type { Principal } from "../../src/domain/kernel/principal";
import { collectionNameFor, slugify } from "../../src/domain/kernel/slug";
import { createOrganization, deleteOrganization, renameOrganization } from "../../src/domain/organizations/lifecycle";
import { removeOrganization } from "../../src/domain/platform/removal";
import { reactivateOrganization, suspendOrganization } from "../../src/domain/platform/suspension";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { createRecord } from "../../src/domain/records/records";
import worker from "../../src/index";
import { ownerOf, storeClient } from "../helpers";
import { checkAccounts, depsFor, faults, freshDatabase } from "./faults";

/**
 * Fault injection: the store stops answering at every step of create, rename and delete in turn
 * (the request never arrives, or it is applied and the answer is lost, as when the Worker dies),
 * then the invariants are checked, the reconciler runs, and they are checked again.
 */

const TENANT_DOCS = 5;

const setUp = async (name: string) => {
  const database = freshDatabase();
  const healthy = depsFor(database);
  await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
  const email = `admin@${slugify(name)}.example.com`;
  await createOrganization(healthy, { organization_name: name, email, password: "Test1234" });
  const tenant = healthy.data.collection(collectionNameFor(slugify(name)));
  for (let i = 0; i < TENANT_DOCS; i++) await tenant.insertOne({ n: i });
  const principal = ownerOf((await healthy.organizations.findOne({ slug: slugify(name) })) as OrganizationDoc);
  return { database, healthy, email, principal: { ...principal, email } };
};

/** What must hold at any moment, half-done or not. */
const checkInvariants = async (deps: Deps, settled: boolean) => {
  const orgs = await deps.organizations.find({});
  const collections = (await deps.data.listCollections()).map((c) => c.name).filter((n) => n.startsWith("org_"));
  for (const org of orgs) {
    if (settled) {
      expect(org.status).toBe("active");
      expect(org.pending).toBeUndefined();
    }
    if (org.status === "active") {
      expect(collections).toContain(org.collection_name);
      expect(org.collection_name).toBe(collectionNameFor(org.slug));
    }
  }
  // No tenant collection without an organization that owns it (or is moving into it).
  for (const name of collections) {
    expect(orgs.some((o) => o.collection_name === name || (o.pending?.op === "rename" && o.pending.to_collection === name))).toBe(true);
  }
  if (settled) await checkAccounts(deps, orgs);
  return orgs;
};

const settle = async (deps: Deps) => {
  await checkInvariants(deps, false);
  await reconcile(deps, new Date(Date.now() + 60_000));
  return checkInvariants(deps, true);
};

// A rename by password first makes the credential check's two calls (the account with its lockout
// count, and the organization); a create first reads the platform's role templates and reserves the
// e-mail's account; a delete ends by closing the accounts it leaves empty.
const STEPS = { create: 5, rename: 5, delete: 4 };
describe("create survives a failure at every step", () => {
  it.each(faults(STEPS.create))("fails at call $failAt ($mode)", async (fault) => {
    const database = freshDatabase();
    const healthy = depsFor(database);
    await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
    const input = { organization_name: "Acme Corp", email: "admin@acme.example.com", password: "Test1234" };
    await expect(createOrganization(depsFor(database, fault), input)).rejects.toThrow();
    const [org, ...others] = await settle(healthy);
    expect(others).toHaveLength(0);
    if (org) {
      // The reservation was recorded: the reconciler finished the creation, and the admin can log in.
      expect(org.slug).toBe("acme_corp");
      await expect(login(healthy, input.email, input.password)).resolves.toMatchObject({ token_type: "bearer" });
    } else {
      // Nothing was recorded: the name and e-mail are free.
      await expect(createOrganization(healthy, input)).resolves.toMatchObject({ collection_name: "org_acme_corp" });
    }
  });
});

describe("rename survives a failure at every step", () => {
  it.each(faults(STEPS.rename))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, email } = await setUp("Old Name");
    const input = { organization_name: "Old Name", new_organization_name: "New Name" };
    await expect(renameOrganization(depsFor(database, fault), input, { kind: "password", email, password: "Test1234" })).rejects.toThrow();
    const [org, ...others] = await settle(healthy);
    expect(others).toHaveLength(0);
    expect(["old_name", "new_name"]).toContain(org?.slug);
    // Every tenant document is in the organization's collection, whichever name it ended with.
    expect(await healthy.data.collection(org?.collection_name ?? "").countDocuments()).toBe(TENANT_DOCS);
    // The name it does not hold is free again.
    const free = org?.slug === "old_name" ? "New Name" : "Old Name";
    await expect(createOrganization(healthy, { organization_name: free, email: "other@example.com", password: "Test1234" })).resolves.toBeTruthy();
  });
});

describe("delete survives a failure at every step", () => {
  it.each(faults(STEPS.delete))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, principal } = await setUp("Doomed");
    await expect(deleteOrganization(depsFor(database, fault), "Doomed", principal)).rejects.toThrow();
    const orgs = await settle(healthy);
    if (orgs.length === 1) {
      expect(await healthy.data.collection("org_doomed").countDocuments()).toBe(TENANT_DOCS);
    } else {
      expect(orgs).toHaveLength(0);
      expect((await healthy.data.listCollections()).map((c) => c.name)).not.toContain("org_doomed");
      // Its admin's account closed with it: the e-mail is free again, and nothing of them is left.
      expect(await healthy.data.collection(USERS).countDocuments({})).toBe(0);
      await createOrganization(healthy, { organization_name: "Doomed", email: "new@example.com", password: "Test1234" });
      expect(await healthy.data.collection("org_doomed").countDocuments()).toBe(0);
    }
  });
});

/**
 * Suspension is a field beside the lifecycle status: whatever step a rename or delete was cut off
 * at, and whenever the operator suspends meanwhile, the reconciler finishes the operation and the
 * organization ends suspended (or gone), its data where it belongs.
 */
const SUSPENSION = { reason: "unpaid", keyId: "ops-write" };

const suspendedAs = (org: OrganizationDoc | undefined) => ({ suspended: org?.suspended, reason: org?.suspension?.reason, by: org?.suspension?.by_key_id });
const SUSPENDED = { suspended: true, reason: SUSPENSION.reason, by: SUSPENSION.keyId };

describe("suspend survives a failure at every step", () => {
  it.each(faults(2))("fails at call $failAt ($mode), and the operator's retry suspends", async (fault) => {
    const { database, healthy, principal } = await setUp("Unpaid");
    await Promise.allSettled([suspendOrganization(depsFor(database, fault), principal.orgId, SUSPENSION.reason, SUSPENSION.keyId)]);
    await suspendOrganization(healthy, principal.orgId, SUSPENSION.reason, SUSPENSION.keyId);
    const [org] = await settle(healthy);
    expect(suspendedAs(org)).toEqual(SUSPENDED);
    expect(await healthy.data.collection("org_unpaid").countDocuments()).toBe(TENANT_DOCS);
    await expect(login(healthy, principal.email, "Test1234")).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
    await reactivateOrganization(healthy, principal.orgId, "test-key");
    await expect(login(healthy, principal.email, "Test1234")).resolves.toMatchObject({ token_type: "bearer" });
  });
});

describe("a rename cut off at every step, then suspended, ends renamed or not and still suspended", () => {
  it.each(faults(STEPS.rename))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, email, principal } = await setUp("Frozen Old");
    const input = { organization_name: "Frozen Old", new_organization_name: "Frozen New" };
    await expect(renameOrganization(depsFor(database, fault), input, { kind: "password", email, password: "Test1234" })).rejects.toThrow();
    await suspendOrganization(healthy, principal.orgId, SUSPENSION.reason, SUSPENSION.keyId);
    const [org, ...others] = await settle(healthy);
    expect(others).toHaveLength(0);
    expect(["frozen_old", "frozen_new"]).toContain(org?.slug);
    expect(suspendedAs(org)).toEqual(SUSPENDED);
    expect(await healthy.data.collection(org?.collection_name ?? "").countDocuments()).toBe(TENANT_DOCS);
  });
});

describe("a delete cut off at every step, then suspended, ends gone or suspended with its data", () => {
  it.each(faults(STEPS.delete))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, principal } = await setUp("Frozen Doomed");
    await expect(deleteOrganization(depsFor(database, fault), "Frozen Doomed", principal)).rejects.toThrow();
    await suspendOrganization(healthy, principal.orgId, SUSPENSION.reason, SUSPENSION.keyId).catch((error) => {
      // Already removed by the part of the delete that went through.
      expect(error).toMatchObject({ code: "ORGANIZATION_NOT_FOUND" });
    });
    const orgs = await settle(healthy);
    if (orgs.length === 1) {
      expect(suspendedAs(orgs[0])).toEqual(SUSPENDED);
      expect(await healthy.data.collection("org_frozen_doomed").countDocuments()).toBe(TENANT_DOCS);
    } else {
      expect(orgs).toHaveLength(0);
      expect((await healthy.data.listCollections()).map((c) => c.name)).not.toContain("org_frozen_doomed");
    }
  });
});

describe("the operator's delete of a suspended organization survives a failure at every step", () => {
  it.each(faults(STEPS.delete))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, principal } = await setUp("Operator Doomed");
    await suspendOrganization(healthy, principal.orgId, SUSPENSION.reason, SUSPENSION.keyId);
    await expect(removeOrganization(depsFor(database, fault), principal.orgId, "test-key")).rejects.toThrow();
    const orgs = await settle(healthy);
    if (orgs.length === 1) {
      expect(suspendedAs(orgs[0])).toEqual(SUSPENDED);
      expect(await healthy.data.collection("org_operator_doomed").countDocuments()).toBe(TENANT_DOCS);
    } else {
      expect((await healthy.data.listCollections()).map((c) => c.name)).not.toContain("org_operator_doomed");
      // As the owner's delete: its owner's account closed with it.
      expect(await healthy.data.collection(USERS).countDocuments({})).toBe(0);
    }
  });
});

/**
 * Record writers keep writing through the healthy store while a rename or delete is cut off at each
 * step; writers refused mid-operation wait for the reconciler, as clients honouring Retry-After do.
 * Afterwards every acknowledged record is in the organization's collection, or, once the
 * organization is gone, nowhere.
 */
const WRITERS = 4;

const withBackground = (deps: Deps, database: string): Deps => ({ ...deps, background: (task) => void task(depsFor(database)).catch(() => {}) });

const startWriters = (deps: Deps, principal: Principal) => {
  const acknowledged: string[] = [];
  let stopped = false;
  let open: () => void = () => {};
  let gate = new Promise<void>((r) => {
    open = r;
  });
  let reachedAt = Number.POSITIVE_INFINITY;
  let reached: () => void = () => {};
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; !stopped && i < 100; i++) {
      try {
        acknowledged.push((await createRecord(deps, principal, { w, i })).id);
        if (acknowledged.length >= reachedAt) reached();
      } catch (error) {
        if (!(error instanceof AppError) || error.code === "INVALID_TOKEN") return;
        if (error.code !== "ORGANIZATION_BUSY") throw error;
        await gate;
      }
    }
  });
  return {
    acknowledged,
    reached: (more: number) => {
      reachedAt = acknowledged.length + more;
      return Promise.race([new Promise<void>((r) => (reached = r)), Promise.all(loops)]);
    },
    resume: () => {
      const opened = open;
      gate = new Promise<void>((r) => {
        open = r;
      });
      opened();
    },
    stop: async () => {
      stopped = true;
      open();
      await Promise.all(loops);
    },
  };
};

const storedIn = async (deps: Deps, collection: string, ids: string[]) => {
  const docs = await deps.data.collection(collection).find({}, { projection: { _id: 1 }, limit: 50_000 });
  const present = new Set(docs.map((d) => String(d._id)));
  return ids.filter((id) => present.has(id));
};

describe("with record writers in flight, rename survives a failure at every step", () => {
  it.each(faults(7))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, email, principal } = await setUp("Busy Old");
    const writers = startWriters(withBackground(healthy, database), principal);
    await writers.reached(WRITERS * 2);
    const input = { organization_name: "Busy Old", new_organization_name: "Busy New" };
    await Promise.allSettled([renameOrganization(depsFor(database, fault), input, { kind: "password", email, password: "Test1234" })]);
    const [org] = await settle(healthy);
    writers.resume();
    await writers.reached(WRITERS);
    await writers.stop();
    const collection = org?.collection_name ?? "";
    expect(await storedIn(healthy, collection, writers.acknowledged)).toEqual(writers.acknowledged);
    expect(await healthy.data.collection(collection).countDocuments()).toBe(TENANT_DOCS + writers.acknowledged.length);
  });
});

describe("with record writers in flight, delete survives a failure at every step", () => {
  it.each(faults(5))("fails at call $failAt ($mode)", async (fault) => {
    const { database, healthy, principal } = await setUp("Busy Doomed");
    const writers = startWriters(withBackground(healthy, database), principal);
    await writers.reached(WRITERS * 2);
    await Promise.allSettled([deleteOrganization(depsFor(database, fault), "Busy Doomed", principal)]);
    const orgs = await settle(healthy);
    writers.resume();
    await writers.reached(WRITERS);
    await writers.stop();
    if (orgs.length === 1) {
      expect(await storedIn(healthy, "org_busy_doomed", writers.acknowledged)).toEqual(writers.acknowledged);
    } else {
      expect(orgs).toHaveLength(0);
      expect((await healthy.data.listCollections()).map((c) => c.name)).not.toContain("org_busy_doomed");
    }
  });
});

/** A store that answers one action with the 400 a server gives a name it cannot hold (FerretDB beyond 235 characters). */
const refusing = (database: string, action: string): Deps => {
  const deps = depsFor(database);
  const data = storeClient(database, (send) => async (request) => {
    if (new URL(request.url).pathname.endsWith(`/${action}`)) {
      return Response.json({ error: "Invalid collection name", error_code: "InvalidParameter" }, { status: 400 });
    }
    return send(request);
  });
  return { ...deps, data, organizations: data.collection<OrganizationDoc>(ORGANIZATIONS) };
};

describe("a store that refuses a name for good", () => {
  it("create answers 422 and leaves nothing reserved", async () => {
    const database = freshDatabase();
    const healthy = depsFor(database);
    await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
    const input = { organization_name: "Refused", email: "refused@example.com", password: "Test1234" };
    await expect(createOrganization(refusing(database, "createCollection"), input)).rejects.toMatchObject({ code: "NAME_REFUSED_BY_STORE", status: 422 });
    expect(await healthy.organizations.find({})).toEqual([]);
    await expect(createOrganization(healthy, input)).resolves.toMatchObject({ collection_name: "org_refused" });
  });

  it("rename answers 422 and leaves the organization as it was", async () => {
    const { database, healthy, email } = await setUp("Kept");
    const input = { organization_name: "Kept", new_organization_name: "Refused Target" };
    await expect(renameOrganization(refusing(database, "renameCollection"), input, { kind: "password", email, password: "Test1234" })).rejects.toMatchObject({
      code: "NAME_REFUSED_BY_STORE",
    });
    const [org] = await checkInvariants(healthy, true);
    expect(org?.slug).toBe("kept");
    expect(await healthy.data.collection("org_kept").countDocuments()).toBe(TENANT_DOCS);
    await expect(createOrganization(healthy, { organization_name: "Refused Target", email: "t@example.com", password: "Test1234" })).resolves.toBeTruthy();
  });

  it("the reconciler gives up instead of retrying forever: undoes, audits, and never picks it up again", async () => {
    const { database, healthy, email } = await setUp("Stuck");
    await expect(
      renameOrganization(
        depsFor(database, { failAt: 4, mode: "before" }),
        { organization_name: "Stuck", new_organization_name: "Stuck Target" },
        { kind: "password", email, password: "Test1234" },
      ),
    ).rejects.toThrow();
    const later = new Date(Date.now() + 60_000);
    expect(await reconcile(refusing(database, "renameCollection"), later)).toMatchObject({ examined: 1, abandoned: 1, failed: 0 });
    const [org] = await checkInvariants(healthy, true);
    expect(org?.slug).toBe("stuck");
    expect(await healthy.data.collection("audit_log").findOne({ org_id: org?._id.toHexString(), outcome: "abandoned" })).toMatchObject({
      action: "org.update",
    });
    expect(await reconcile(healthy, later)).toMatchObject({ examined: 0 });
  });
});

describe("races", () => {
  it("rename racing a create of the target name: exactly one gets the name", async () => {
    const { healthy, email } = await setUp("Alpha");
    const [rename, create] = await Promise.allSettled([
      renameOrganization(healthy, { organization_name: "Alpha", new_organization_name: "Beta" }, { kind: "password", email, password: "Test1234" }),
      createOrganization(healthy, { organization_name: "Beta", email: "beta@example.com", password: "Test1234" }),
    ]);
    expect([rename.status, create.status].filter((s) => s === "fulfilled")).toHaveLength(1);
    const orgs = await checkInvariants(healthy, true);
    expect(orgs.filter((o) => o.slug === "beta")).toHaveLength(1);
    expect(orgs.map((o) => o.slug).sort()).toEqual(rename.status === "fulfilled" ? ["beta"] : ["alpha", "beta"]);
  });

  it("delete racing a rename: one wins, the other is refused, nothing is left half-done", async () => {
    const { healthy, email, principal } = await setUp("Gamma");
    const results = await Promise.allSettled([
      deleteOrganization(healthy, "Gamma", principal),
      renameOrganization(healthy, { organization_name: "Gamma", new_organization_name: "Delta" }, { kind: "password", email, password: "Test1234" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const orgs = await checkInvariants(healthy, true);
    expect(orgs.length).toBeLessThanOrEqual(1);
    if (orgs[0]) expect(await healthy.data.collection(orgs[0].collection_name).countDocuments()).toBe(TENANT_DOCS);
  });

  it("two reconcilers at once settle each stuck operation once", async () => {
    const { database, healthy, email } = await setUp("Epsilon");
    await expect(
      renameOrganization(
        // Call 4 moves the collection: the rename is recorded, the move never happens.
        depsFor(database, { failAt: 4, mode: "before" }),
        { organization_name: "Epsilon", new_organization_name: "Zeta" },
        { kind: "password", email, password: "Test1234" },
      ),
    ).rejects.toThrow();
    const later = new Date(Date.now() + 60_000);
    const reports = await Promise.all([reconcile(depsFor(database), later), reconcile(depsFor(database), later)]);
    expect(reports.every((r) => r.failed === 0)).toBe(true);
    const [org] = await checkInvariants(healthy, true);
    expect(org?.slug).toBe("zeta");
    expect(await healthy.data.collection("org_zeta").countDocuments()).toBe(TENANT_DOCS);
  });

  it("concurrent logins of one admin all succeed", async () => {
    const { healthy, email } = await setUp("Eta");
    const results = await Promise.all(Array.from({ length: 10 }, () => login(healthy, email, "Test1234")));
    expect(results.every((r) => r.token_type === "bearer")).toBe(true);
  });
});

describe("the Cron Trigger", () => {
  it("runs the reconciler on the configured store", async () => {
    const database = freshDatabase();
    const healthy = depsFor(database);
    await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
    await expect(
      // The fourth call is the collection's creation (after the templates, the account and the insert).
      createOrganization(depsFor(database, { failAt: 4, mode: "before" }), { organization_name: "Cron", email: "cron@example.com", password: "Test1234" }),
    ).rejects.toThrow();
    expect((await healthy.organizations.findOne({ slug: "cron" }))?.status).toBe("creating");
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), {
      ...env,
      DATABASE: database,
      RECONCILE_AFTER_SECONDS: "0",
    });
    expect((await healthy.organizations.findOne({ slug: "cron" }))?.status).toBe("active");
    expect((await healthy.data.listCollections({ name: "org_cron" })).length).toBe(1);
  });
});

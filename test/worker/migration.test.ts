import { ObjectId } from "bson";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { type AccountDoc, attemptKey, USERS } from "../../src/domain/accounts/accounts";
import { hashPassword } from "../../src/domain/accounts/passwords";
import { login } from "../../src/domain/auth/auth";
import type { Deps } from "../../src/domain/kernel/deps";
import { keyRing } from "../../src/domain/kernel/keys";
import { ORGANIZATION_INDEXES } from "../../src/domain/kernel/model";
import { authenticateToken } from "../../src/domain/kernel/principal";
import { ensureLayout, LAYOUT_VERSION, SERVICE_META } from "../../src/domain/layout/migrate";
import { createOrganization } from "../../src/domain/organizations/lifecycle";
import { reactivateOrganization } from "../../src/domain/platform/suspension";
import { createRecord, listRecords } from "../../src/domain/records/records";
import { depsFor, freshDatabase } from "./faults";

/**
 * A store written by this service before organizations had members (one admin embedded in each
 * organization, a unique index on its e-mail) comes over with each admin as its organization's
 * owner: same password, same user id, and tokens issued before keep working.
 */

/** Writes organizations as the previous layout did, with the index it had. */
const legacyStore = async (deps: Deps, count: number) => {
  await deps.organizations.createIndexes([...ORGANIZATION_INDEXES, { key: { "admin.email_key": 1 }, name: "admin_email_unique", unique: true }]);
  const hash = await hashPassword("Legacy-1234", 10_000);
  const created = new Date("2026-03-01T00:00:00Z");
  const orgs = Array.from({ length: count }, (_, i) => ({
    _id: new ObjectId(),
    organization_name: `Legacy ${i}`,
    slug: `legacy_${i}`,
    collection_name: `org_legacy_${i}`,
    status: "active" as const,
    created_at: created,
    updated_at: created,
    admin: { id: new ObjectId(), email: `Admin${i}@Legacy.example.com`, email_key: `admin${i}@legacy.example.com`, password_hash: hash, token_version: 3 },
  }));
  for (const org of orgs) {
    await deps.data.collection("organizations").insertOne(org);
    await deps.data.collection(org.collection_name).insertOne({ org_id: org._id, created_at: created, updated_at: created, data: { kept: true } });
  }
  return orgs;
};

/** A token as the previous version signed it: no role claim. */
const legacyToken = async (deps: Deps, org: Awaited<ReturnType<typeof legacyStore>>[number]) => {
  const ring = await keyRing(deps.settings.token);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ admin_id: org.admin.id.toHexString(), org_id: org._id.toHexString(), org_name: org.organization_name, tv: org.admin.token_version })
    .setProtectedHeader({ alg: ring.alg, typ: "JWT", kid: ring.kid })
    .setSubject(org.admin.id.toHexString())
    .setIssuer(deps.settings.token.issuer)
    .setAudience(deps.settings.token.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(crypto.randomUUID())
    .sign(ring.signingKey);
};

describe("migrating organizations with an embedded admin", () => {
  it("makes each admin the owner, keeps password and tokens, and frees the old e-mail index", async () => {
    const deps = depsFor(freshDatabase());
    const legacy = await legacyStore(deps, 3);
    const token = await legacyToken(deps, legacy[0] as (typeof legacy)[number]);

    // Two isolates starting together both migrate: each step repeats harmlessly.
    await Promise.all([ensureLayout(deps), ensureLayout(deps)]);

    for (const old of legacy) {
      const org = await deps.organizations.findOne({ _id: old._id });
      expect(org).not.toHaveProperty("admin");
      expect(org?.owner_count).toBe(1);
      expect(org?.members[old.admin.id.toHexString()]).toMatchObject({ user_id: old.admin.id, email: old.admin.email, role: "owner", token_version: 3 });
      const account = await deps.data.collection<AccountDoc>(USERS).findOne({ _id: await attemptKey(old.admin.email_key) });
      expect(account).toMatchObject({ user_id: old.admin.id, email: old.admin.email, org_ids: [old._id] });
      await expect(login(deps, old.admin.email, "Legacy-1234")).resolves.toMatchObject({ token_type: "bearer" });
    }
    // A token from before the migration names the same user and version, and still works.
    const principal = await authenticateToken(deps, token);
    expect(principal.role).toBe("owner");
    expect((await listRecords(deps, principal, { limit: 10 })).records).toEqual([expect.objectContaining({ kept: true })]);
    await expect(createRecord(deps, principal, { after: true })).resolves.toMatchObject({ after: true });
    // New organizations carry no embedded admin: with the old unique index they could not be two.
    await createOrganization(deps, { organization_name: "Fresh One", email: "one@example.com", password: "Test1234" });
    await createOrganization(deps, { organization_name: "Fresh Two", email: "two@example.com", password: "Test1234" });
    expect(await deps.data.collection(SERVICE_META).findOne({ _id: "layout" })).toMatchObject({ version: LAYOUT_VERSION });
    // Once marked, a later start reads the marker and nothing else.
    const before = deps.data.roundTrips;
    await ensureLayout(deps);
    expect(deps.data.roundTrips - before).toBe(1);
  });

  it("keeps an operator's suspension: the new owner is refused as the admin was, until reactivated", async () => {
    const deps = depsFor(freshDatabase());
    const [old] = await legacyStore(deps, 1);
    if (!old) throw new Error("no legacy organization");
    const suspension = { at: new Date("2026-03-02T00:00:00Z"), reason: "unpaid", by_key_id: "ops-write" };
    await deps.organizations.updateOne({ _id: old._id }, { $set: { suspended: true, suspension } });
    const token = await legacyToken(deps, old);

    await ensureLayout(deps);

    const org = await deps.organizations.findOne({ _id: old._id });
    expect(org).toMatchObject({ suspended: true, suspension, owner_count: 1 });
    expect(org?.members[old.admin.id.toHexString()]).toMatchObject({ role: "owner", token_version: 3 });
    await expect(login(deps, old.admin.email, "Legacy-1234")).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
    const principal = await authenticateToken(deps, token);
    await expect(listRecords(deps, principal, { limit: 10 })).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
    await expect(createRecord(deps, principal, { after: true })).rejects.toMatchObject({ code: "ORGANIZATION_SUSPENDED" });
    await reactivateOrganization(deps, old._id, "test-key");
    await expect(login(deps, old.admin.email, "Legacy-1234")).resolves.toMatchObject({ token_type: "bearer" });
    expect((await listRecords(deps, principal, { limit: 10 })).records).toEqual([expect.objectContaining({ kept: true })]);
  });
});

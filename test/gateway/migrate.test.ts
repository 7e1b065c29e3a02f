import { MongoClient, ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateFastApi } from "../../gateway/migrate-fastapi";
import { attemptKey, USERS } from "../../src/domain/accounts/accounts";
import { verifyPassword } from "../../src/domain/accounts/passwords";

const mongoUrl = process.env.MONGO_URL;
// A hash the FastAPI service wrote for "Test1234" (passlib 1.7.4, 29000 rounds), from the shared test vectors.
const PASSLIB_TEST1234 = "$pbkdf2-sha256$29000$AAECAwQFBgcICQoLDA0ODw$LCgxQaeveYt7qMsxuLtCXJax8PgZVnbCwp2GVfJ6Lzk";

describe.skipIf(!mongoUrl)("migrating a FastAPI master database (needs MONGO_URL)", () => {
  const client = new MongoClient(mongoUrl ?? "mongodb://127.0.0.1:1");
  const db = client.db(`legacy_${Date.now().toString(36)}`);
  const [acme, clash, orphan] = [new ObjectId(), new ObjectId(), new ObjectId()];

  beforeAll(async () => {
    // The old layout: organizations, a separate admins collection, tenant collections by sanitized name.
    await db.collection("organizations").insertMany([
      {
        _id: acme,
        organization_name: "Acme-Corp",
        collection_name: "org_acme-corp",
        admin_email: "Admin@Acme.com",
        created_at: new Date("2025-01-02T03:04:05Z"),
      },
      { _id: clash, organization_name: "acme_corp", collection_name: "org_acme_corp_2" },
      { _id: orphan, organization_name: "Lonely", collection_name: "org_lonely" },
    ]);
    await db.collection("admins").insertMany([
      { email: "Admin@Acme.com", password: PASSLIB_TEST1234, org_id: String(acme) },
      { email: "clash@example.com", hashed_password: PASSLIB_TEST1234, organization_name: "acme_corp" },
    ]);
    await db.collection("org_acme-corp").insertMany([{ n: 1 }, { n: 2 }]);
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it("reports without writing on a dry run", async () => {
    const report = await migrateFastApi(db, { dryRun: true });
    expect(report.migrated).toEqual(["Acme-Corp"]);
    expect(await db.collection("organizations").countDocuments({ members: { $exists: true } })).toBe(0);
  });

  it("makes each admin its organization's owner with an account, keeps the hash, and moves the tenant data under org_<slug>", async () => {
    const report = await migrateFastApi(db, { now: new Date("2026-01-01T00:00:00Z") });
    expect(report.migrated).toEqual(["Acme-Corp"]);
    expect(report.renamedCollections).toEqual([["org_acme-corp", "org_acme_corp"]]);
    expect(report.skipped).toEqual([
      { organization: "acme_corp", reason: "another organization already has the slug acme_corp (the old service's collision)" },
      { organization: "Lonely", reason: "no admin found for it" },
    ]);
    const org = await db.collection("organizations").findOne({ _id: acme });
    expect(org).toMatchObject({
      organization_name: "Acme-Corp",
      slug: "acme_corp",
      collection_name: "org_acme_corp",
      status: "active",
      created_at: new Date("2025-01-02T03:04:05Z"),
      owner_count: 1,
    });
    const [owner] = Object.values(org?.members ?? {}) as { user_id: ObjectId; email: string; email_key: string; role: string }[];
    expect(owner).toMatchObject({ email: "Admin@Acme.com", email_key: "admin@acme.com", role: "owner" });
    const account = await db.collection(USERS).findOne({ _id: await attemptKey("admin@acme.com") } as never);
    expect(account).toMatchObject({ user_id: owner?.user_id, email: "Admin@Acme.com", org_ids: [acme], password_hash: PASSLIB_TEST1234 });
    expect(await verifyPassword("Test1234", account?.password_hash)).toBe(true);
    expect(await db.collection("org_acme_corp").countDocuments()).toBe(2);
    // Running it again changes nothing.
    expect((await migrateFastApi(db)).migrated).toEqual([]);
  });
});

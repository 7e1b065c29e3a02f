import { type Db, type Document, MongoServerError, ObjectId } from "mongodb";
import { attemptKey, USERS } from "../src/domain/accounts/accounts";
import { freshTokenVersion, memberPath, normalizeEmail, ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "../src/domain/kernel/model";
import { collectionNameFor, slugify } from "../src/domain/kernel/slug";

/**
 * Folds the FastAPI service's master database (`organizations` plus a separate `admins`
 * collection) into this service's layout (each admin the owner of its organization, with an
 * account of their own), in place. Password hashes are kept as they are: passlib's pbkdf2_sha256 verifies here and is
 * rewritten at the current cost on the next login. Tenant collections keep their data; one
 * whose name is not `org_<slug>` of its organization is renamed (metadata only).
 */
export interface MigrationReport {
  migrated: string[];
  renamedCollections: [string, string][];
  skipped: { organization: string; reason: string }[];
}

const HASH_FIELDS = ["password_hash", "hashed_password", "password"];
const ORG_REFERENCE_FIELDS = ["org_id", "organization_id"];

const same = (a: unknown, b: unknown): boolean => a !== undefined && a !== null && String(a) === String(b);

/** The old admin of an organization: by its org reference, its organization name, or the organization's admin e-mail. */
const adminOf = (org: Document, admins: Document[]): Document | undefined =>
  admins.find((a) => ORG_REFERENCE_FIELDS.some((f) => same(a[f], org._id))) ??
  admins.find((a) => same(a.organization_name, org.organization_name)) ??
  admins.find((a) => typeof org.admin_email === "string" && same(normalizeEmail(String(a.email ?? "")), normalizeEmail(org.admin_email)));

const hashOf = (admin: Document): string | undefined =>
  HASH_FIELDS.map((f) => admin[f]).find((v): v is string => typeof v === "string" && v.startsWith("$pbkdf2-sha256$"));

const dateOf = (value: unknown, fallback: Date): Date =>
  value instanceof Date ? value : typeof value === "string" && !Number.isNaN(Date.parse(value)) ? new Date(value) : fallback;

/** The admin's account (the e-mail's reservation), or the organization joins it when an earlier run opened it. */
const openAccount = async (db: Db, orgId: ObjectId, userId: ObjectId, email: string, hash: string): Promise<boolean> => {
  const users = db.collection<{ _id: string }>(USERS);
  const key = await attemptKey(normalizeEmail(email));
  try {
    await users.updateOne(
      { _id: key, user_id: { $exists: false } },
      { $set: { user_id: userId, email, password_hash: hash, org_ids: [orgId] }, $setOnInsert: { failures: 0 } },
      { upsert: true },
    );
    return true;
  } catch (error) {
    if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
    const { matchedCount } = await users.updateOne({ _id: key, user_id: userId }, { $addToSet: { org_ids: orgId } });
    return matchedCount === 1;
  }
};

export const migrateFastApi = async (db: Db, options: { dryRun?: boolean; now?: Date } = {}): Promise<MigrationReport> => {
  const now = options.now ?? new Date();
  const report: MigrationReport = { migrated: [], renamedCollections: [], skipped: [] };
  const legacy = await db
    .collection(ORGANIZATIONS)
    .find({ admin: { $exists: false }, members: { $exists: false } })
    .toArray();
  const admins = await db.collection("admins").find({}).toArray();
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  const taken = new Set(
    (
      await db
        .collection(ORGANIZATIONS)
        .find({ $or: [{ admin: { $exists: true } }, { members: { $exists: true } }] }, { projection: { slug: 1 } })
        .toArray()
    ).map((o) => String(o.slug)),
  );

  for (const org of legacy) {
    const name = String(org.organization_name ?? "");
    const skip = (reason: string) => report.skipped.push({ organization: name || String(org._id), reason });
    const slug = slugify(name);
    const admin = adminOf(org, admins);
    const hash = admin && hashOf(admin);
    if (!(org._id instanceof ObjectId)) skip("its _id is not an ObjectId");
    else if (!slug) skip("its name has no letters or digits");
    else if (taken.has(slug)) skip(`another organization already has the slug ${slug} (the old service's collision)`);
    else if (!admin || typeof admin.email !== "string") skip("no admin found for it");
    else if (!hash) skip("its admin has no pbkdf2_sha256 hash");
    else {
      taken.add(slug);
      const target = collectionNameFor(slug);
      const current = typeof org.collection_name === "string" ? org.collection_name : target;
      const userId = admin._id instanceof ObjectId ? admin._id : new ObjectId();
      const created_at = dateOf(org.created_at, now);
      const doc: OrganizationDoc = {
        _id: org._id,
        organization_name: name,
        slug,
        collection_name: target,
        status: "active",
        created_at,
        updated_at: now,
        members: {
          [userId.toHexString()]: {
            user_id: userId,
            email: admin.email,
            email_key: normalizeEmail(admin.email),
            role: "owner",
            token_version: freshTokenVersion(),
            joined_at: created_at,
          },
        },
        owner_count: 1,
      };
      if (options.dryRun) {
        report.migrated.push(name);
        continue;
      }
      if (current !== target && existing.has(current)) {
        if (existing.has(target)) {
          taken.delete(slug);
          skip(`both ${current} and ${target} exist`);
          continue;
        }
        await db.renameCollection(current, target);
        existing.delete(current);
        existing.add(target);
        report.renamedCollections.push([current, target]);
      }
      if (!(await openAccount(db, org._id, userId, admin.email, hash))) {
        taken.delete(slug);
        skip("its admin's e-mail already has an account of another organization's admin");
        continue;
      }
      if (!existing.has(target)) await db.createCollection(target);
      existing.add(target);
      await db.collection(ORGANIZATIONS).replaceOne({ _id: org._id, admin: { $exists: false }, [memberPath(userId)]: { $exists: false } }, doc);
      report.migrated.push(name);
    }
  }
  if (!options.dryRun) {
    // This service's first layout had a unique index on the embedded admin's e-mail; accounts hold that reservation now.
    await db
      .collection(ORGANIZATIONS)
      .dropIndex("admin_email_unique")
      .catch(() => undefined);
    for (const index of ORGANIZATION_INDEXES) {
      await db.collection(ORGANIZATIONS).createIndex(index.key, { name: index.name, unique: index.unique ?? false });
    }
  }
  return report;
};

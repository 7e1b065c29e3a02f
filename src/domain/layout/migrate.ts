import type { ObjectId } from "bson";
import { DuplicateKeyError } from "../../data/errors";
import { type AccountDoc, attemptKey, USERS } from "../accounts/accounts";
import type { Deps } from "../kernel/deps";
import { type AdminRecord, type MemberRecord, memberPath, ORGANIZATIONS } from "../kernel/model";
import { assignAllSlots } from "./slots";

/**
 * Brings organizations stored before members existed (one admin embedded in the document, by
 * this service or folded in from the FastAPI service) to the members layout: the admin becomes
 * the organization's owner, with an account of the same user id, e-mail and hash, so their
 * password and their tokens (same user id, same token version) keep working.
 *
 * It runs before an isolate serves its first request, until the layout marker says it is done.
 * Every step repeats harmlessly, so isolates starting together, or a crash midway, only repeat it.
 */
export const SERVICE_META = "service_meta";
export const LAYOUT_VERSION = 3;
const BATCH = 500;

interface LegacyOrganization {
  _id: ObjectId;
  created_at: Date;
  admin: AdminRecord;
}

interface LayoutDoc {
  [key: string]: unknown;
  _id: string;
  version: number;
}

export interface MigrationReport {
  migrated: number;
  skipped: number;
}

const migrateOne = async (deps: Deps, org: LegacyOrganization): Promise<boolean> => {
  const { admin } = org;
  const users = deps.data.collection<AccountDoc>(USERS);
  const key = await attemptKey(admin.email_key);
  try {
    await users.updateOne(
      { _id: key, user_id: { $exists: false } },
      { $set: { user_id: admin.id, email: admin.email, password_hash: admin.password_hash, org_ids: [org._id] }, $setOnInsert: { failures: 0 } },
      { upsert: true },
    );
  } catch (error) {
    if (!(error instanceof DuplicateKeyError)) throw error;
    // An account holds the e-mail: this admin's, from an earlier attempt (then the organization joins it).
    const { matchedCount } = await users.updateOne({ _id: key, user_id: admin.id }, { $addToSet: { org_ids: org._id } });
    if (matchedCount === 0) {
      console.error(JSON.stringify({ msg: "migration skipped an organization whose admin e-mail another account holds", org_id: org._id.toHexString() }));
      return false;
    }
  }
  const member: MemberRecord = {
    user_id: admin.id,
    email: admin.email,
    email_key: admin.email_key,
    role: "owner",
    token_version: admin.token_version,
    joined_at: org.created_at,
  };
  await deps.organizations.updateOne(
    { _id: org._id, admin: { $exists: true } },
    { $set: { [memberPath(admin.id)]: member, owner_count: 1 }, $unset: { admin: "" } },
  );
  return true;
};

/** Migrates every organization still in the old layout; answers how many. */
export const migrateEmbeddedAdmins = async (deps: Deps): Promise<MigrationReport> => {
  const report: MigrationReport = { migrated: 0, skipped: 0 };
  const skippedIds: ObjectId[] = [];
  for (;;) {
    const batch = (await deps.organizations.find(
      { admin: { $exists: true }, ...(skippedIds.length ? { _id: { $nin: skippedIds } } : {}) },
      { limit: BATCH },
    )) as unknown as LegacyOrganization[];
    for (const org of batch) {
      if (await migrateOne(deps, org)) report.migrated++;
      else {
        report.skipped++;
        skippedIds.push(org._id);
      }
    }
    if (batch.length < BATCH) return report;
  }
};

/**
 * Brings the store to the current layout once: the old unique index on the admin's e-mail goes
 * (organizations no longer carry one), then every old organization is migrated, then webhook
 * endpoints and invitations stored before per-organization slots get one (version 3), then the
 * marker is set so later isolates skip all this after one read.
 */
export const ensureLayout = async (deps: Deps): Promise<void> => {
  const meta = deps.data.collection<LayoutDoc>(SERVICE_META);
  const layout = await meta.findOne({ _id: "layout" });
  if ((layout?.version ?? 0) >= LAYOUT_VERSION) return;
  await deps.data.collection(ORGANIZATIONS).dropIndex("admin_email_unique");
  await migrateEmbeddedAdmins(deps);
  await assignAllSlots(deps);
  await meta.updateOne({ _id: "layout" }, { $set: { version: LAYOUT_VERSION } }, { upsert: true });
};

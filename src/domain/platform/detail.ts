import { ObjectId } from "bson";
import { type ApiKeyView, apiKeyViews } from "../api-keys/api-keys";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import type { MemberRecord, OrganizationDoc, Suspension } from "../kernel/model";
import type { Role } from "../kernel/roles";
import { type OrganizationSummary, summaryOf } from "./listing";

/** One organization as the operator inspects it: its people, suspension, pending operation and record count. */

/** The people of an organization as the operator sees them: those who manage it (owners and admins), and how many members it has. */
export interface PeopleView {
  admins: { id: string; email: string; role: Role }[];
  member_count: number;
}

export const peopleOf = (org: Pick<OrganizationDoc, "members">): PeopleView => {
  const members = Object.values(org.members ?? {});
  return {
    admins: members
      .filter((m): m is MemberRecord & { role: "owner" | "admin" } => m.role === "owner" || m.role === "admin")
      // Owners first, then by e-mail: the same order on every read.
      .sort((a, b) => (a.role === b.role ? (a.email_key < b.email_key ? -1 : a.email_key > b.email_key ? 1 : 0) : a.role === "owner" ? -1 : 1))
      .map((m) => ({ id: m.user_id.toHexString(), email: m.email, role: m.role })),
    member_count: members.length,
  };
};

export interface OrganizationDetail extends OrganizationSummary, PeopleView {
  collection_name: string;
  suspension: { at: string; reason: string; by_key_id: string } | null;
  /** Null while a rename moves the collection or a delete drops it: the count would describe neither. */
  record_count: number | null;
  pending: { op: string; started_at: string; failed_at?: string; error?: string } | null;
  /** Its API keys, never their secrets. */
  api_keys: ApiKeyView[];
}

const suspensionView = (s: Suspension | undefined) => (s ? { at: s.at.toISOString(), reason: s.reason, by_key_id: s.by_key_id } : null);

const pendingView = (org: OrganizationDoc): OrganizationDetail["pending"] => {
  const pending = org.pending;
  if (!pending) return null;
  return {
    op: pending.op,
    started_at: pending.started_at.toISOString(),
    ...(pending.failed_at ? { failed_at: pending.failed_at.toISOString() } : {}),
    ...(pending.error ? { error: pending.error } : {}),
  };
};
export const detailOf = (org: OrganizationDoc, recordCount: number | null): OrganizationDetail => ({
  ...summaryOf(org),
  collection_name: org.collection_name,
  ...peopleOf(org),
  suspension: suspensionView(org.suspension),
  record_count: recordCount,
  pending: pendingView(org),
  api_keys: apiKeyViews(org),
});

/** An id from a path: anything that is not 24 hexadecimal digits names no organization. */
export const organizationIdOf = (text: string): ObjectId => {
  if (!/^[0-9a-fA-F]{24}$/.test(text)) throw new AppError("ORGANIZATION_NOT_FOUND");
  return ObjectId.createFromHexString(text.toLowerCase());
};

export const countRecords = (deps: Deps, org: OrganizationDoc): Promise<number | null> =>
  org.status === "active" ? deps.data.collection(org.collection_name).countDocuments({ org_id: org._id }) : Promise.resolve(null);

export const inspectOrganization = async (deps: Deps, id: ObjectId): Promise<OrganizationDetail> => {
  const org = await deps.organizations.findOne({ _id: id }, { projection: { write_leases: 0 } });
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  return detailOf(org, await countRecords(deps, org));
};

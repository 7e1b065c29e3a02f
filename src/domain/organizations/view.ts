import type { OrganizationDoc, OrgStatus } from "../kernel/model";

/** The public view of an organization (the e-mail only for its own admin). */
export interface OrganizationView {
  organization_name: string;
  collection_name: string;
  /** `suspended` whatever the lifecycle status underneath. */
  status: OrgStatus | "suspended";
  created_at: string;
  updated_at: string;
  admin_email?: string;
}

export const viewOf = (org: OrganizationDoc, adminEmail?: string): OrganizationView => ({
  organization_name: org.organization_name,
  // Mid-rename the data is moving to the new name's collection: that is the one to report.
  collection_name: org.pending?.op === "rename" ? org.pending.to_collection : org.collection_name,
  status: org.suspended === true ? "suspended" : org.status,
  created_at: org.created_at.toISOString(),
  updated_at: org.updated_at.toISOString(),
  ...(adminEmail === undefined ? {} : { admin_email: adminEmail }),
});

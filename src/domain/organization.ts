import type { ObjectId } from "bson";
import type { Collection, DataClient } from "../data/client";
import type { IndexSpec } from "../dataapi/engine";
import type { TokenSettings } from "./tokens";
import type { WriteLeases } from "./write-leases";

export type OrgStatus = "creating" | "active" | "renaming" | "deleting";

/** What a multi-step operation records on the organization before its first side effect. */
export type PendingOperation =
  | { op: "create"; started_at: Date }
  | { op: "rename"; started_at: Date; from_name: string; from_slug: string; from_collection: string; to_collection: string }
  | { op: "delete"; started_at: Date };

/** Who suspended an organization, when and why (the operator key's id, never the key). */
export interface Suspension {
  at: Date;
  reason: string;
  by_key_id: string;
}

export interface AdminRecord {
  id: ObjectId;
  /** As given at creation, for display. */
  email: string;
  /** Lower-cased: the unique login key (e-mails compare case-insensitively). */
  email_key: string;
  password_hash: string;
  token_version: number;
}

/**
 * One document per organization in the master database's `organizations` collection, its admin
 * embedded, so that each endpoint reads or changes one document per step. Unique indexes on
 * `slug`, `collection_name` and `admin.email_key` make every name and e-mail a reservation.
 */
export interface OrganizationDoc {
  [key: string]: unknown;
  _id: ObjectId;
  organization_name: string;
  slug: string;
  /** During a rename this still names the old collection, so neither name can be taken meanwhile. */
  collection_name: string;
  status: OrgStatus;
  created_at: Date;
  updated_at: Date;
  admin: AdminRecord;
  pending?: PendingOperation;
  /**
   * Set by the platform operator, orthogonal to `status`: a rename or delete in flight still
   * finishes, and the organization stays suspended. Its admin is refused everywhere (admission.ts).
   */
  suspended?: true;
  suspension?: Suspension;
  /** Record writes in flight, each with the instant after which it can no longer apply (see write-leases.ts). */
  write_leases?: WriteLeases;
}

export const ORGANIZATIONS = "organizations";

export const ORGANIZATION_INDEXES: IndexSpec[] = [
  { key: { slug: 1 }, name: "slug_unique", unique: true },
  { key: { collection_name: 1 }, name: "collection_name_unique", unique: true },
  { key: { "admin.email_key": 1 }, name: "admin_email_unique", unique: true },
  { key: { status: 1 }, name: "status" },
  // The platform operator's listing (platform.ts): each order and filter a page is read in.
  { key: { created_at: 1, _id: 1 }, name: "created" },
  { key: { status: 1, slug: 1 }, name: "status_slug" },
  { key: { status: 1, created_at: 1, _id: 1 }, name: "status_created" },
  { key: { suspended: 1, slug: 1 }, name: "suspended_slug" },
  { key: { suspended: 1, created_at: 1, _id: 1 }, name: "suspended_created" },
];

/** The settings the domain reads: the composition root (src/deps.ts) hands it these, and nothing else. */
export interface DomainSettings {
  token: TokenSettings;
  pbkdf2Iterations: number;
  /** Consecutive failed password checks after which an e-mail locks for a while. */
  lockoutThreshold: number;
  /** The master database: it bounds how long a collection name (and so a slug) may be. */
  data: {
    database: string;
    /** A store call's deadline: a record write's lease lasts as long. */
    timeoutMs: number;
  };
}

/** What the domain needs from the outside world for one request. */
export interface Deps {
  data: DataClient;
  organizations: Collection<OrganizationDoc>;
  settings: DomainSettings;
  now: () => Date;
  /** Waits, e.g. while a rename lets record writes in flight finish; passed in so tests control time. */
  sleep: (ms: number) => Promise<void>;
  /**
   * Runs work after the answer is sent (the Worker's waitUntil), on dependencies of its own so
   * that it never counts toward the request's round trips; failures are logged, not thrown.
   */
  background: (task: (deps: Deps) => Promise<unknown>) => void;
  /**
   * The per-client throttle of password checks (429 once spent). Part of the one credential
   * check, so no endpoint that takes a password can be a cheaper oracle than another. Absent
   * where no client is behind the work (background tasks, the cron).
   */
  throttleCredentials?: () => Promise<void>;
}

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

export const viewOf = (org: OrganizationDoc, withAdminEmail: boolean): OrganizationView => ({
  organization_name: org.organization_name,
  // Mid-rename the data is moving to the new name's collection: that is the one to report.
  collection_name: org.pending?.op === "rename" ? org.pending.to_collection : org.collection_name,
  status: org.suspended === true ? "suspended" : org.status,
  created_at: org.created_at.toISOString(),
  updated_at: org.updated_at.toISOString(),
  ...(withAdminEmail ? { admin_email: org.admin.email } : {}),
});

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

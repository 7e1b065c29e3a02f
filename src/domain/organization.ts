import type { ObjectId } from "bson";
import type { WebhookSettings } from "../config/settings";
import type { Collection, DataClient } from "../data/client";
import type { IndexSpec } from "../dataapi/engine";
import type { OutboxEvent } from "./events";
import type { Role } from "./roles";
import type { TokenSettings } from "./tokens";
import type { Farewell } from "./webhooks/farewells";
import type { WriteLeases } from "./write-leases";

export type OrgStatus = "creating" | "active" | "renaming" | "deleting";

/** What a multi-step operation records on the organization before its first side effect. */
export type PendingOperation =
  | { op: "create"; started_at: Date }
  | {
      op: "rename";
      started_at: Date;
      from_name: string;
      from_slug: string;
      from_collection: string;
      to_collection: string;
      /** Recorded when the rename finishes, never when it is undone. */
      event?: OutboxEvent;
    }
  | { op: "delete"; started_at: Date };

/** Who suspended an organization, when and why (the operator key's id, never the key). */
export interface Suspension {
  at: Date;
  reason: string;
  by_key_id: string;
}

/** One person's membership, inside the organization's document (keyed by the user's id in hex). */
export interface MemberRecord {
  user_id: ObjectId;
  /** As the user gave it, for display. */
  email: string;
  /** Lower-cased, as on the account. */
  email_key: string;
  role: Role;
  /**
   * Raising it revokes every token of this member for this organization. It starts at a random
   * value, so a member removed and invited back never revives a token from before.
   */
  token_version: number;
  joined_at: Date;
}

/** A member removed whose account still lists the organization: the removal's last step, which the reconciler finishes. */
export interface Departure {
  user_id: ObjectId;
  at: Date;
}

/** The layout before organizations had members: one admin, embedded (migrated by src/domain/migrate.ts). */
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
 * One document per organization in the master database's `organizations` collection, its
 * members embedded, so that authorising a call and acting on the organization is one guarded
 * update of one document. Unique indexes on `slug` and `collection_name` make every name a
 * reservation; e-mails are reserved by the accounts (src/domain/accounts.ts).
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
  members: Record<string, MemberRecord>;
  /** How many members are owners: the guard that keeps the last one from leaving. */
  owner_count: number;
  departures?: Departure[];
  /** Set once an invitation was made: a delete then also clears the invitations (one call saved for the many that never invite). */
  has_invitations?: boolean;
  pending?: PendingOperation;
  /**
   * Set by the platform operator, orthogonal to `status`: a rename or delete in flight still
   * finishes, and the organization stays suspended. Its members are refused everywhere (admission.ts).
   */
  suspended?: true;
  suspension?: Suspension;
  /** Record writes in flight, each with the instant after which it can no longer apply (see write-leases.ts). */
  write_leases?: WriteLeases;
  /** Event publishers at work (see write-leases.ts): a delete waits for them. */
  publish_leases?: WriteLeases;
  /** Set once a webhook endpoint was registered: publishing then wakes the dispatcher, and a delete removes the endpoints. */
  has_webhooks?: true;
  /** Events recorded with their changes, not yet published to the feed (events.ts). */
  outbox?: OutboxEvent[];
  /** How many events were published: the feed's number of the last one. */
  event_seq?: number;
}

export const ORGANIZATIONS = "organizations";

export const ORGANIZATION_INDEXES: IndexSpec[] = [
  { key: { slug: 1 }, name: "slug_unique", unique: true },
  { key: { collection_name: 1 }, name: "collection_name_unique", unique: true },
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
  /** How long an invitation's token can be accepted. */
  invitationTtlSeconds: number;
  /** Pending invitations an organization may have at once. */
  maxPendingInvitations: number;
  webhooks: WebhookSettings;
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
  /** Wakes the organization's webhook dispatcher (events were published for it); absent where there is none. */
  wakeWebhooks?: (orgId: ObjectId) => void;
  /** Hands a deleted organization's last deliveries to its dispatcher (farewells.ts); absent where there is none. */
  handOffFarewells?: (orgId: ObjectId, farewells: Farewell[]) => Promise<void>;
  /**
   * The per-client throttle of password checks (429 once spent). Part of the one credential
   * check, so no endpoint that takes a password can be a cheaper oracle than another. Absent
   * where no client is behind the work (background tasks, the cron). Counted once per request
   * however often called: an invitation accept counts before it looks the token up, and again
   * when it checks a password.
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

export const viewOf = (org: OrganizationDoc, adminEmail?: string): OrganizationView => ({
  organization_name: org.organization_name,
  // Mid-rename the data is moving to the new name's collection: that is the one to report.
  collection_name: org.pending?.op === "rename" ? org.pending.to_collection : org.collection_name,
  status: org.suspended === true ? "suspended" : org.status,
  created_at: org.created_at.toISOString(),
  updated_at: org.updated_at.toISOString(),
  ...(adminEmail === undefined ? {} : { admin_email: adminEmail }),
});

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** Where a member's entry lives in the organization's document. */
export const memberPath = (userId: ObjectId | string, field?: keyof MemberRecord): string =>
  `members.${typeof userId === "string" ? userId : userId.toHexString()}${field ? `.${field}` : ""}`;

/** The first token version of a new member: random, so it never matches a token from an earlier membership. */
export const freshTokenVersion = (): number => {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return ((high ?? 0) & 0x1fffff) * 2 ** 32 + (low ?? 0);
};

export const memberOf = (org: Pick<OrganizationDoc, "members">, userId: ObjectId | string): MemberRecord | undefined =>
  org.members?.[typeof userId === "string" ? userId : userId.toHexString()];

import type { ObjectId } from "bson";
import type { IndexSpec } from "../../dataapi/engine";
import { can, isRole, type Permission } from "./roles";

export const EVENT_TYPES = [
  "organization.created",
  "organization.renamed",
  "organization.deleted",
  "organization.suspended",
  "organization.reactivated",
  "member.joined",
  "member.role_changed",
  "member.removed",
  "member.left",
  "invitation.created",
  "invitation.revoked",
  "admin.password_changed",
  "admin.login_failed",
  "admin.locked",
  "webhook.created",
  "webhook.deleted",
  "webhook.disabled",
  "api_key.created",
  "api_key.revoked",
  "api_key.rolled",
  "role.created",
  "role.updated",
  "role.deleted",
  "team.created",
  "team.updated",
  "team.deleted",
  "team.member_added",
  "team.member_removed",
  "domain.claimed",
  "domain.verified",
  "domain.lapsed",
  "domain.deleted",
  "domain.policy_changed",
  "member.join_requested",
  "member.join_declined",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Who made the change: a member (by token or password), one of the organization's API keys, the platform operator (by key id), or the service itself. */
export type Actor =
  | { type: "user"; id: string }
  | { type: "api_key"; id: string }
  | { type: "operator"; key_id: string }
  | { type: "system" }
  | { type: "anonymous" };

/** An event as it waits in the outbox. */
export interface OutboxEvent {
  id: string;
  type: EventType;
  at: Date;
  actor: Actor;
  data: Record<string, unknown>;
}

/** Leases by id, each with the instant after which its writer can no longer write (leases.ts). */
export type WriteLeases = Record<string, Date>;

export type OrgStatus = "creating" | "active" | "renaming" | "deleting";

/** What a multi-step operation records on the organization before its first side effect. */
export type PendingOperation = (
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
  | { op: "delete"; started_at: Date }
) & {
  /** Set when a store refused a step for good and nothing could undo it: the reconciler leaves it to an operator. */
  failed_at?: Date;
  /** The store's error code for that refusal. */
  error?: string;
};

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
  /** The member's first role: the built-in one they hold, or else their first custom role (what `role` has always answered). */
  role: string;
  /** Every role the member holds, built-in first, when they hold a custom one (absent otherwise: `role` alone). */
  roles?: string[];
  /** The teams the member is in, by team id, with their role in each: kept on the membership, so it goes with it. */
  teams?: Record<string, TeamRole>;
  /**
   * Raising it revokes every token of this member for this organization. It starts at a random
   * value, so a member removed and invited back never revives a token from before.
   */
  token_version: number;
  joined_at: Date;
}

/**
 * One of the organization's API keys, inside its document (keyed by the key's id in hex): it
 * belongs to the organization, so it outlives its creator's membership and goes with a delete.
 */
export interface ApiKeyRecord {
  name: string;
  scopes: Permission[];
  /** The secret's first characters (its fixed prefix and ids, none of the random part), to recognise it. */
  prefix: string;
  created_by: ObjectId;
  created_at: Date;
  expires_at?: Date;
  /**
   * The SHA-256 of each secret that opens the key, with the instant it stops: the current one's is
   * the key's expiry (or never), a rolled-out one's the end of its overlap. The guard of every
   * request with the key compares one of these, so verification rides on the request's own read.
   */
  secrets: Record<string, Date>;
  rolled_at?: Date;
  last_used_at?: Date;
}

/** One of the organization's own roles, inside its document (keyed by the role's name). */
export interface CustomRoleRecord {
  permissions: Permission[];
  description?: string;
  created_at: Date;
  updated_at: Date;
}

/** A member's role in a team: a lead may add and remove the team's members without `team:manage`. */
export type TeamRole = "lead" | "member";

/** One of the organization's teams, inside its document (keyed by the team's id); who is in it is on each member (`MemberRecord.teams`). */
export interface TeamRecord {
  name: string;
  /** Lower-cased: names are unique within the organization, whatever their case. */
  name_key: string;
  description?: string;
  created_at: Date;
  updated_at: Date;
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
 * reservation; e-mails are reserved by the accounts (src/domain/accounts/accounts.ts).
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
  api_keys?: Record<string, ApiKeyRecord>;
  /** How many keys `api_keys` holds: the guard of the cap on keys. */
  api_key_count?: number;
  /** The organization's own roles, by name (src/domain/roles/). */
  custom_roles?: Record<string, CustomRoleRecord>;
  /**
   * For each permission a custom role gives, the roles that give it: what the guard of a request
   * whose permission comes from a custom role compares (principal.ts), in one field.
   */
  role_grants?: Partial<Record<Permission, string[]>>;
  /** Raised by every change to the custom roles or to who holds one: the guard of those changes, so that each is made against what it read. */
  roles_rev?: number;
  /** The organization's teams, by id (src/domain/teams/). */
  teams?: Record<string, TeamRecord>;
  /** Raised by every change to the teams or to who is in one: the guard of those changes, as `roles_rev` is of roles. */
  teams_rev?: number;
  /** Set once an invitation was made: a delete then also clears the invitations (one call saved for the many that never invite). */
  has_invitations?: boolean;
  pending?: PendingOperation;
  /**
   * Set by the platform operator, orthogonal to `status`: a rename or delete in flight still
   * finishes, and the organization stays suspended. Its members are refused everywhere (admission.ts).
   */
  suspended?: true;
  suspension?: Suspension;
  /** Record writes in flight, each with the instant after which it can no longer apply (see leases.ts). */
  write_leases?: WriteLeases;
  /** Event publishers at work (see leases.ts): a delete waits for them. */
  publish_leases?: WriteLeases;
  /** Set once a webhook endpoint was registered: publishing then wakes the dispatcher, and a delete removes the endpoints. */
  has_webhooks?: true;
  /** Set once it claims a domain: a delete then removes its domains. */
  has_domains?: true;
  /**
   * What people at each of its domains may do, by domain id (domains/policies.ts): the policy and
   * role set here, and `verified` while the domain is. A join by domain is guarded by this entry in
   * the update that adds the member, so a lapse, a release or a policy change is never raced past.
   */
  domain_policies?: Record<string, DomainPolicyEntry>;
  /** People at a `suggest` domain who asked to join, waiting for an admin (domains/joining.ts). */
  join_requests?: JoinRequest[];
  /** When set, invitations go only to addresses at these domains. */
  invitation_domains?: string[];
  /** Events recorded with their changes, not yet published to the feed (events/outbox.ts). */
  outbox?: OutboxEvent[];
  /** How many events were published: the feed's number of the last one. */
  event_seq?: number;
}

/** A domain's policy as the organization's document holds it. */
export interface DomainPolicyEntry {
  domain: string;
  /** `auto_join`: a verified address there joins at once, as `role`; `suggest`: it may ask, an admin approves. Absent: neither. */
  policy?: "auto_join" | "suggest";
  role?: "member" | "admin";
  /** The domain is verified: set after its claim is, cleared before a lapse or a release. */
  verified?: true;
}

export interface JoinRequest {
  user_id: ObjectId;
  email: string;
  domain: string;
  at: Date;
}

export const ORGANIZATIONS = "organizations";

export const ORGANIZATION_INDEXES: IndexSpec[] = [
  { key: { slug: 1 }, name: "slug_unique", unique: true },
  { key: { collection_name: 1 }, name: "collection_name_unique", unique: true },
  { key: { status: 1 }, name: "status" },
  // The platform operator's listing (platform/listing.ts): each order and filter a page is read in.
  { key: { created_at: 1, _id: 1 }, name: "created" },
  { key: { status: 1, slug: 1 }, name: "status_slug" },
  { key: { status: 1, created_at: 1, _id: 1 }, name: "status_created" },
  { key: { suspended: 1, slug: 1 }, name: "suspended_slug" },
  { key: { suspended: 1, created_at: 1, _id: 1 }, name: "suspended_created" },
];

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

/** Every role a member holds: the built-in one (if any) first. */
export const rolesOfMember = (member: Pick<MemberRecord, "role" | "roles">): string[] => member.roles ?? [member.role];

/** The custom roles among them. */
export const customRolesOf = (member: Pick<MemberRecord, "role" | "roles">): string[] => rolesOfMember(member).filter((role) => !isRole(role));

/** Whether one of the member's roles, built-in or the organization's own as its document stands, allows the permission. */
export const holds = (org: Pick<OrganizationDoc, "role_grants">, member: Pick<MemberRecord, "role" | "roles">, permission: Permission): boolean =>
  rolesOfMember(member).some((role) => can(role, permission) || (org.role_grants?.[permission] ?? []).includes(role));

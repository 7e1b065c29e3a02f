/**
 * Roles as permission sets, in one registry. A route names the permission it needs; the HTTP
 * layer checks the caller's role against it in one place (src/http/authenticate.ts), and every
 * domain write is guarded by the caller's current token version, which a role change raises, so
 * a role read from a token is never trusted past a change.
 *
 * Besides the three built-in roles, an organization may define its own (src/domain/roles/): a
 * name and a set of permissions, kept in its document. A member holds one or more roles and may
 * do what any of them allows. A custom role's permissions are checked against the document by the
 * request's own guarded read or write (principal.ts), so a change to the role reaches its holders
 * on their next request without a new token and without a round trip of its own.
 */
export const PERMISSIONS = [
  "organization:update",
  "organization:delete",
  "member:read",
  "member:invite",
  "member:update",
  "member:remove",
  "records:read",
  "records:write",
  "audit:read",
  "webhook:manage",
  "api_key:manage",
  "role:manage",
  "team:manage",
  "domain:manage",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ["owner", "admin", "member"] as const;

export type Role = (typeof ROLES)[number];

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: PERMISSIONS,
  // Everything but deleting the organization (and touching owners, which the member rules check).
  admin: PERMISSIONS.filter((permission) => permission !== "organization:delete"),
  member: ["member:read", "records:read", "records:write"],
};

/**
 * What an API key may be given, in a fixed order (a key's secret carries its scopes as bits in
 * this order, so it only grows at the end). Managing members, the organization itself and keys
 * stays with people: those rules are about who a member is.
 */
export const KEY_SCOPES = ["member:read", "records:read", "records:write", "audit:read", "webhook:manage"] as const satisfies readonly Permission[];

export const isKeyScope = (value: string): value is (typeof KEY_SCOPES)[number] => (KEY_SCOPES as readonly string[]).includes(value);

/** What a built-in role allows; a custom role's name allows nothing here (its permissions are the organization's). */
export const can = (role: string, permission: Permission): boolean => isRole(role) && ROLE_PERMISSIONS[role].includes(permission);

/** The permissions of a built-in role. */
export const permissionsOfRole = (role: Role): readonly Permission[] => ROLE_PERMISSIONS[role];

/** The roles that hold a permission: what a guarded update puts in its filter. */
export const rolesWith = (permission: Permission): Role[] => ROLES.filter((role) => can(role, permission));

export const isRole = (value: unknown): value is Role => typeof value === "string" && (ROLES as readonly string[]).includes(value);

/**
 * What only an owner may hold. A custom role may give `member:invite`: its holders invite members
 * only, while they hold everything a member may do (invitations/invitations.ts).
 */
export const NOT_FOR_CUSTOM_ROLES: readonly Permission[] = ["organization:delete"];

/** The permissions a custom role may be given. */
export const CUSTOM_ROLE_PERMISSIONS = PERMISSIONS.filter((permission) => !NOT_FOR_CUSTOM_ROLES.includes(permission));

/** A custom role's name: a lower-case word, usable as a field name in the organization's document, never a built-in role's. */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export const isRoleName = (value: unknown): value is string => typeof value === "string" && ROLE_NAME_PATTERN.test(value);

/** The roles one member may hold at once (every one is in their token). */
export const MAX_ROLES_PER_MEMBER = 8;

/**
 * Who may give or take which role: owners manage everyone; admins manage admins and members but
 * can neither make an owner nor touch one.
 */
export const mayAssign = (actor: string, from: string | undefined, to: string): boolean => {
  if (actor === "owner") return true;
  if (actor !== "admin") return false;
  return to !== "owner" && from !== "owner";
};

/** The built-in roles whose holders may invite someone as `role` (an invitation is accepted only while its inviter may still invite it). */
export const invitersOf = (role: Role): string[] => rolesWith("member:invite").filter((actor) => mayAssign(actor, undefined, role));

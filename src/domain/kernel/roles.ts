/**
 * Roles as permission sets, in one registry. A route names the permission it needs; the HTTP
 * layer checks the caller's role against it in one place (src/http/authenticate.ts), and every
 * domain write is guarded by the caller's current token version, which a role change raises, so
 * a role read from a token is never trusted past a change.
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

export const can = (role: Role, permission: Permission): boolean => ROLE_PERMISSIONS[role].includes(permission);

/** The roles that hold a permission: what a guarded update puts in its filter. */
export const rolesWith = (permission: Permission): Role[] => ROLES.filter((role) => can(role, permission));

export const isRole = (value: unknown): value is Role => typeof value === "string" && (ROLES as readonly string[]).includes(value);

/**
 * Who may give or take which role: owners manage everyone; admins manage admins and members but
 * can neither make an owner nor touch one.
 */
export const mayAssign = (actor: Role, from: Role | undefined, to: Role): boolean => {
  if (actor === "owner") return true;
  if (actor !== "admin") return false;
  return to !== "owner" && from !== "owner";
};

/** The roles whose holders may invite someone as `role` (an invitation is accepted only while its inviter holds one). */
export const invitersOf = (role: Role): Role[] => rolesWith("member:invite").filter((actor) => mayAssign(actor, undefined, role));

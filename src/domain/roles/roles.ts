import { publishLater } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { readOrganization } from "../kernel/guard";
import { type CustomRoleRecord, type MemberRecord, memberPath, type OrganizationDoc, rolesOfMember } from "../kernel/model";
import { type Caller, grantPath, type Principal } from "../kernel/principal";
import { changeAgainstRead, type Plan } from "../kernel/revised";
import { CUSTOM_ROLE_PERMISSIONS, isRole, type Permission, permissionsOfRole, ROLES } from "../kernel/roles";

/**
 * An organization's own roles: a name and a set of permissions, kept in its document beside the
 * members who hold them. Every change is one update of that document, made against what was read
 * (`roles_rev`, which each change raises), so a role deleted while it is being given, or changed
 * while its holders change, never leaves a member holding a role that does not exist.
 *
 * Beside the definitions the document keeps `role_grants`, the roles that give each permission:
 * what the guard of a request whose permission comes from a custom role compares
 * (kernel/principal.ts), so a change reaches every holder on their next request.
 */

/** Custom roles an organization may define. */
export const MAX_CUSTOM_ROLES = 50;

export interface RoleView {
  name: string;
  permissions: Permission[];
  built_in: boolean;
  description: string | null;
  /** How many members hold it. */
  members: number;
  created_at: string | null;
  updated_at: string | null;
}

const BUILT_IN_DESCRIPTIONS: Record<string, string> = {
  owner: "Everything, deleting the organization included",
  admin: "Everything but deleting the organization and making or touching owners",
  member: "Records and the member list",
};

type RoleState = Pick<OrganizationDoc, "members" | "custom_roles" | "role_grants" | "roles_rev">;

const holdersOf = (org: RoleState, name: string): MemberRecord[] => Object.values(org.members ?? {}).filter((member) => rolesOfMember(member).includes(name));

/** The built-in roles, then the organization's own by name. */
export const roleViews = (org: RoleState): RoleView[] => [
  ...ROLES.map((name) => ({
    name,
    permissions: [...permissionsOfRole(name)],
    built_in: true,
    description: BUILT_IN_DESCRIPTIONS[name] ?? null,
    members: holdersOf(org, name).length,
    created_at: null,
    updated_at: null,
  })),
  ...Object.entries(org.custom_roles ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, role]) => customView(org, name, role)),
];

const customView = (org: RoleState, name: string, role: CustomRoleRecord): RoleView => ({
  name,
  permissions: role.permissions,
  built_in: false,
  description: role.description ?? null,
  members: holdersOf(org, name).length,
  created_at: role.created_at.toISOString(),
  updated_at: role.updated_at.toISOString(),
});

export const listRoles = async (deps: Deps, principal: Caller): Promise<{ roles: RoleView[] }> => ({
  roles: roleViews(await readOrganization(deps, principal, { members: 1, custom_roles: 1 })),
});

/** Whether the role exists in the organization: built in, or one of its own. */
export const roleExists = (org: Pick<OrganizationDoc, "custom_roles">, name: string): boolean => isRole(name) || org.custom_roles?.[name] !== undefined;

/** Every permission the member's roles give, as the document stands. */
export const permissionsOf = (org: Pick<OrganizationDoc, "custom_roles">, roles: readonly string[]): Set<Permission> =>
  new Set(roles.flatMap((role) => (isRole(role) ? permissionsOfRole(role) : (org.custom_roles?.[role]?.permissions ?? []))));

/**
 * Who may give or take which roles, generalising the built-in ladder: an owner anything; otherwise
 * no owner is made or touched, only an admin makes or touches an admin, and every custom role given
 * or taken gives nothing the actor's own roles do not (no one hands out more than they hold).
 */
export const mayChangeRoles = (org: Pick<OrganizationDoc, "custom_roles">, actor: MemberRecord, from: readonly string[], to: readonly string[]): boolean => {
  const actorRoles = rolesOfMember(actor);
  if (actorRoles.includes("owner")) return true;
  const touched = [...from, ...to];
  if (touched.includes("owner")) return false;
  if (touched.includes("admin") && !actorRoles.includes("admin")) return false;
  const own = permissionsOf(org, actorRoles);
  return touched.every((role) => isRole(role) || (org.custom_roles?.[role]?.permissions ?? []).every((permission) => own.has(permission)));
};

/** The member's roles as stored: the built-in one first, and `roles` only when a custom one is among them. */
export const storedRoles = (roles: readonly string[]): { role: string; roles?: string[] } => {
  const ordered = [...new Set([...roles.filter(isRole), ...roles.filter((role) => !isRole(role))])];
  const first = ordered[0] as string;
  return ordered.length === 1 && isRole(first) ? { role: first } : { role: first, roles: ordered };
};

/** For each permission the roles give, the roles that give it, by name: the document's `role_grants`. */
export const grantsOf = (roles: Record<string, Pick<CustomRoleRecord, "permissions">>): Partial<Record<Permission, string[]>> => {
  const grants: Partial<Record<Permission, string[]>> = {};
  for (const permission of CUSTOM_ROLE_PERMISSIONS) {
    const givers = Object.entries(roles)
      .filter(([, role]) => role.permissions.includes(permission))
      .map(([name]) => name)
      .sort();
    if (givers.length) grants[permission] = givers;
  }
  return grants;
};

/** The update of `role_grants` that matches these definitions: each permission a role gives set, the others removed. */
const grantsUpdate = (roles: Record<string, CustomRoleRecord>): { $set: Record<string, string[]>; $unset: Record<string, ""> } => {
  const grants = grantsOf(roles);
  const set: Record<string, string[]> = {};
  const unset: Record<string, ""> = {};
  for (const permission of CUSTOM_ROLE_PERMISSIONS) {
    const givers = grants[permission];
    if (givers) set[grantPath(permission)] = givers;
    else unset[grantPath(permission)] = "";
  }
  return { $set: set, $unset: unset };
};

/** A role change against the document as read, its event published after. */
const changeRoles = async <T>(deps: Deps, principal: Principal, plan: (org: OrganizationDoc, actor: MemberRecord) => Plan<T>): Promise<T> => {
  const result = await changeAgainstRead(deps, principal, "roles_rev", plan);
  publishLater(deps, principal.orgId);
  return result;
};

/** A non-owner gives a role only permissions they hold themselves. */
const checkWithinOwn = (org: OrganizationDoc, actor: MemberRecord, permissions: readonly Permission[]) => {
  const roles = rolesOfMember(actor);
  if (roles.includes("owner")) return;
  const own = permissionsOf(org, roles);
  if (!permissions.every((permission) => own.has(permission))) throw new AppError("PERMISSION_DENIED");
};

const definitionsUpdate = (roles: Record<string, CustomRoleRecord>, now: Date, extra: { $set?: Record<string, unknown>; $unset?: Record<string, ""> } = {}) => {
  const grants = grantsUpdate(roles);
  const $unset = { ...grants.$unset, ...extra.$unset };
  return {
    $set: { ...grants.$set, ...extra.$set, updated_at: now },
    ...(Object.keys($unset).length ? { $unset } : {}),
    $inc: { roles_rev: 1 },
  };
};

export interface RoleInput {
  name: string;
  permissions: Permission[];
  description?: string;
}

export const createRole = (deps: Deps, principal: Principal, input: RoleInput): Promise<RoleView> =>
  changeRoles(deps, principal, (org, actor) => {
    if (roleExists(org, input.name)) throw new AppError("ROLE_EXISTS");
    if (Object.keys(org.custom_roles ?? {}).length >= MAX_CUSTOM_ROLES) throw new AppError("ROLE_LIMIT");
    const permissions = [...new Set(input.permissions)];
    checkWithinOwn(org, actor, permissions);
    const now = deps.now();
    const role: CustomRoleRecord = { permissions, ...(input.description ? { description: input.description } : {}), created_at: now, updated_at: now };
    const roles = { ...org.custom_roles, [input.name]: role };
    return {
      update: withEvents(
        definitionsUpdate(roles, now, { $set: { [`custom_roles.${input.name}`]: role } }),
        newEvent("role.created", userActor(principal), { name: input.name, permissions }, now),
      ),
      result: customView(org, input.name, role),
    };
  });

export const updateRole = (deps: Deps, principal: Principal, name: string, input: { permissions?: Permission[]; description?: string | null }) =>
  changeRoles(deps, principal, (org, actor) => {
    const before = org.custom_roles?.[name];
    if (!before) throw new AppError(isRole(name) ? "PERMISSION_DENIED" : "ROLE_NOT_FOUND");
    const permissions = input.permissions ? [...new Set(input.permissions)] : before.permissions;
    // Changing a role is giving its new permissions and taking its old ones from its holders.
    checkWithinOwn(org, actor, [...before.permissions, ...permissions]);
    const now = deps.now();
    const { description: _, ...kept } = before;
    const description = input.description === undefined ? before.description : (input.description ?? undefined);
    const role: CustomRoleRecord = { ...kept, permissions, ...(description ? { description } : {}), updated_at: now };
    const roles = { ...org.custom_roles, [name]: role };
    return {
      update: withEvents(
        definitionsUpdate(roles, now, { $set: { [`custom_roles.${name}`]: role } }),
        newEvent("role.updated", userActor(principal), { name, permissions, previous_permissions: before.permissions }, now),
      ),
      result: customView(org, name, role),
    };
  });

/**
 * Deletes a role. While members hold it, only with a replacement, which each of them is given in
 * its place in the same update (their tokens stop, as with any change of their roles); a built-in
 * replacement only to those who hold no built-in role, since a member holds one at most.
 */
export const deleteRole = (deps: Deps, principal: Principal, name: string, replacement?: string) =>
  changeRoles(deps, principal, (org, actor) => {
    const before = org.custom_roles?.[name];
    if (!before) throw new AppError(isRole(name) ? "PERMISSION_DENIED" : "ROLE_NOT_FOUND");
    const holders = holdersOf(org, name);
    if (holders.length && replacement === undefined) throw new AppError("ROLE_IN_USE");
    if (replacement !== undefined && (replacement === name || !roleExists(org, replacement))) throw new AppError("ROLE_UNKNOWN");
    checkWithinOwn(org, actor, before.permissions);
    const now = deps.now();
    const memberSets: Record<string, unknown> = {};
    const memberUnsets: Record<string, ""> = {};
    const guard: Record<string, unknown> = {};
    const tokenBumps: Record<string, number> = {};
    let ownersGained = 0;
    for (const holder of holders) {
      const from = rolesOfMember(holder);
      // A member holds one built-in role at most: one who has one keeps it, and a built-in replacement goes to those who have none.
      const kept = isRole(replacement) && from.some(isRole);
      const to = from.flatMap((role) => (role !== name ? [role] : kept ? [] : [replacement as string]));
      if (!mayChangeRoles(org, actor, from, to)) throw new AppError("PERMISSION_DENIED");
      const stored = storedRoles(to);
      memberSets[memberPath(holder.user_id, "role")] = stored.role;
      if (stored.roles) memberSets[memberPath(holder.user_id, "roles")] = stored.roles;
      else memberUnsets[memberPath(holder.user_id, "roles")] = "";
      if (!from.includes("owner") && to.includes("owner")) ownersGained++;
      // Each holder as read: one removed or changed meanwhile sends the delete back to read again.
      guard[memberPath(holder.user_id, "token_version")] = holder.token_version;
      tokenBumps[memberPath(holder.user_id, "token_version")] = 1;
    }
    const { [name]: _, ...roles } = org.custom_roles ?? {};
    const update = definitionsUpdate(roles, now, { $set: memberSets, $unset: { ...memberUnsets, [`custom_roles.${name}`]: "" } });
    return {
      guard,
      update: withEvents(
        { ...update, $inc: { ...update.$inc, ...tokenBumps, ...(ownersGained ? { owner_count: ownersGained } : {}) } },
        newEvent(
          "role.deleted",
          userActor(principal),
          { name, replaced_by: replacement ?? null, user_ids: holders.map((holder) => holder.user_id.toHexString()) },
          now,
        ),
      ),
      result: undefined,
    };
  });

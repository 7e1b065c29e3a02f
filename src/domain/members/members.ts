import { ObjectId } from "bson";
import { type AccountDoc, USERS } from "../accounts/accounts";
import { publishLater } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { readOrganization, writable } from "../kernel/guard";
import { type MemberRecord, memberOf, memberPath, type OrganizationDoc, rolesOfMember, type TeamRole } from "../kernel/model";
import { runForRequest } from "../kernel/operation";
import type { Caller, Principal } from "../kernel/principal";
import { changeAgainstRead } from "../kernel/revised";
import { isRole, mayAssign, type Role } from "../kernel/roles";
import { mayChangeRoles, roleExists, storedRoles } from "../roles/roles";
import { endMembershipOperation } from "./departure";

export const DEFAULT_MEMBER_PAGE = 50;
export const MAX_MEMBER_PAGE = 200;

export interface MemberView {
  user_id: string;
  email: string;
  role: string;
  roles: string[];
  teams: { id: string; role: TeamRole }[];
  joined_at: string;
}

export const memberView = (member: MemberRecord): MemberView => ({
  user_id: member.user_id.toHexString(),
  email: member.email,
  role: member.role,
  roles: rolesOfMember(member),
  teams: Object.entries(member.teams ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, role]) => ({ id, role })),
  joined_at: member.joined_at.toISOString(),
});

/**
 * Members in user-id order, resuming after the cursor's id: each member present throughout is
 * listed once. Listed while the organization is readable; they change only while it is active
 * (not mid-rename), as records do.
 */
export const listMembers = async (deps: Deps, principal: Caller, page: { limit: number; after?: string }) => {
  const org = await readOrganization(deps, principal);
  const ids = Object.keys(org.members)
    .filter((id) => page.after === undefined || id > page.after)
    .sort();
  const shown = ids.slice(0, page.limit);
  const last = shown.at(-1);
  const verified = await verifiedAmong(deps, shown);
  return {
    members: shown.map((id) => ({ ...memberView(org.members[id] as MemberRecord), email_verified: verified.has(id) })),
    next_cursor: ids.length > page.limit && last ? last : null,
  };
};

/** Which of these user ids have proven their address: one read of the accounts for the page (none for an empty page). */
const verifiedAmong = async (deps: Deps, userIds: string[]): Promise<Set<string>> => {
  if (userIds.length === 0) return new Set();
  const accounts = await deps.data
    .collection<AccountDoc>(USERS)
    .find({ user_id: { $in: userIds.map((id) => ObjectId.createFromHexString(id)) }, email_verified: true }, { projection: { user_id: 1 } });
  return new Set(accounts.flatMap((account) => (account.user_id ? [account.user_id.toHexString()] : [])));
};

/**
 * The guard of a change to `target`'s membership: the caller's token is current, the organization
 * takes changes (active, not suspended), and the target holds one of `roles`. A target who is an owner may only lose that
 * role while another owner remains: `owner_count` is counted in the same document, so of two
 * parallel removals of the last two owners exactly one matches.
 */
const guardFor = (principal: Principal, target: ObjectId, roles: Role[], losingOwner: boolean) => ({
  ...writable(principal),
  [memberPath(target, "role")]: { $in: roles },
  [memberPath(target, "roles")]: { $exists: false },
  ...(losingOwner ? { owner_count: { $gt: 1 } } : {}),
});

/**
 * Tries the change for each built-in role the target might hold alone (the caller's built-in role
 * may act on), most likely first: one guarded update when the guess is right; no read before. A
 * target or a caller with a custom role, and every refusal, goes on to `changeAfterRead`.
 */
const changeMembership = async (
  deps: Deps,
  principal: Principal,
  target: ObjectId,
  to: Role | "removed",
  update: (from: Role) => Record<string, unknown>,
): Promise<OrganizationDoc | null> => {
  const candidates: Role[][] = [["member", "admin"], ["owner"]];
  for (const roles of candidates) {
    const from = roles[0] as Role;
    if (!mayAssign(principal.role, from, to === "removed" ? from : to)) continue;
    const losingOwner = from === "owner" && to !== "owner";
    const before = await deps.organizations.findOneAndUpdate(guardFor(principal, target, roles, losingOwner), update(from));
    if (before) return before;
  }
  return null;
};

/**
 * The change as any roles allow it: one read decides whether the caller may (`mayChangeRoles`) or
 * why not, then one update guarded by what was read (the target's token version, which every change
 * of their membership raises, and `roles_rev`); tried again from a new read when another change came between.
 */
const changeAfterRead = (
  deps: Deps,
  principal: Principal,
  target: ObjectId,
  to: string[] | "removed",
  update: (from: MemberRecord, org: OrganizationDoc) => Record<string, unknown>,
): Promise<OrganizationDoc> =>
  changeAgainstRead(deps, principal, "roles_rev", (org, actor) => {
    const member = memberOf(org, target);
    if (!member) throw new AppError("MEMBER_NOT_FOUND");
    const from = rolesOfMember(member);
    const roles = to === "removed" ? [] : to;
    if (roles.some((role) => !roleExists(org, role))) throw new AppError("ROLE_UNKNOWN");
    // Leaving is one's own to decide; anything else asks whether the caller may give and take these roles.
    const leaving = to === "removed" && principal.userId.equals(target);
    if (!leaving && !mayChangeRoles(org, actor, from, roles)) throw new AppError("PERMISSION_DENIED");
    const losingOwner = from.includes("owner") && !roles.includes("owner");
    if (losingOwner && org.owner_count <= 1) throw new AppError("LAST_OWNER");
    return {
      guard: { [memberPath(target, "token_version")]: member.token_version, ...(losingOwner ? { owner_count: { $gt: 1 } } : {}) },
      update: update(member, org),
      result: org,
    };
  });

/** How many owners a change of roles adds (or, negative, takes away). */
const ownerDelta = (from: readonly string[], to: readonly string[]): number => (to.includes("owner") ? 1 : 0) - (from.includes("owner") ? 1 : 0);

/** Changes a member's role; their earlier tokens for this organization stop working. */
export const changeRole = async (deps: Deps, principal: Principal, target: ObjectId, role: Role): Promise<MemberView> => {
  const now = deps.now();
  const before = await changeMembership(deps, principal, target, role, (from) =>
    withEvents(
      {
        $set: { [memberPath(target, "role")]: role, updated_at: now },
        $inc: { [memberPath(target, "token_version")]: 1, owner_count: ownerDelta([from], [role]) },
      },
      newEvent("member.role_changed", userActor(principal), { user_id: target.toHexString(), role, roles: [role] }, now),
    ),
  );
  if (!before) return assignRoles(deps, principal, target, [role]);
  publishLater(deps, principal.orgId);
  const member = memberOf(before, target) as MemberRecord;
  // A change to the same owner role matched as the owner guess with +1 -1: no count moved.
  return memberView({ ...member, role });
};

/**
 * Gives a member exactly these roles (built-in and custom, at most one built-in); their earlier
 * tokens for this organization stop working, and their next token names every role.
 */
export const assignRoles = async (deps: Deps, principal: Principal, target: ObjectId, roles: string[]): Promise<MemberView> => {
  if (roles.filter(isRole).length > 1) throw new AppError("VALIDATION_FAILED", "A member holds at most one of owner, admin and member");
  const stored = storedRoles(roles);
  const all = stored.roles ?? [stored.role];
  const now = deps.now();
  const custom = (names: readonly string[]) => names.some((name) => !isRole(name));
  const org = await changeAfterRead(deps, principal, target, all, (member) =>
    withEvents(
      {
        $set: { [memberPath(target, "role")]: stored.role, ...(stored.roles ? { [memberPath(target, "roles")]: stored.roles } : {}), updated_at: now },
        ...(stored.roles ? {} : { $unset: { [memberPath(target, "roles")]: "" } }),
        $inc: {
          [memberPath(target, "token_version")]: 1,
          owner_count: ownerDelta(rolesOfMember(member), all),
          // Who holds a custom role is what deleting one decides on: a change of it is a role change.
          ...(custom(rolesOfMember(member)) || custom(all) ? { roles_rev: 1 } : {}),
        },
      },
      newEvent("member.role_changed", userActor(principal), { user_id: target.toHexString(), role: stored.role, roles: all }, now),
    ),
  );
  publishLater(deps, principal.orgId);
  const { roles: _, ...member } = memberOf(org, target) as MemberRecord;
  return memberView({ ...member, ...stored });
};

/**
 * Ends a membership (removal by a manager, or leaving): one guarded update removes it from the
 * organization and records a departure; then the account drops the organization (closing it if it
 * was the last) and the departure is cleared. The reconciler finishes a departure a crash left.
 */
const endMembership = async (deps: Deps, principal: Principal, target: ObjectId): Promise<void> => {
  const now = deps.now();
  const ended = principal.userId.equals(target)
    ? newEvent("member.left", userActor(principal), { user_id: target.toHexString() }, now)
    : newEvent("member.removed", userActor(principal), { user_id: target.toHexString() }, now);
  const removal = (from: readonly string[]) =>
    withEvents(
      {
        $unset: { [memberPath(target)]: "" },
        $push: { departures: { user_id: target, at: now } },
        $set: { updated_at: now },
        ...(from.includes("owner") ? { $inc: { owner_count: -1 } } : {}),
      },
      ended,
    );
  const before =
    (await changeMembership(deps, principal, target, "removed", (from) => removal([from]))) ??
    (await changeAfterRead(deps, principal, target, "removed", (member) => removal(rolesOfMember(member))));
  publishLater(deps, principal.orgId);
  await runForRequest(endMembershipOperation, deps, {
    orgId: principal.orgId,
    departure: { user_id: target, at: now },
    hasInvitations: before.has_invitations === true,
  });
};

export const removeMember = (deps: Deps, principal: Principal, target: ObjectId): Promise<void> => endMembership(deps, principal, target);

/** Leaving is removing oneself: any role may, except the last owner. */
export const leaveOrganization = (deps: Deps, principal: Principal): Promise<void> => endMembership(deps, { ...principal, role: "owner" }, principal.userId);

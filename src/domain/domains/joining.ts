import type { ObjectId } from "bson";
import { type Account, type AccountDoc, type DomainJoinMark, findAccount, USERS } from "../accounts/accounts";
import { tokenFor } from "../auth/auth";
import { publishLater } from "../events/outbox";
import { mayInvite } from "../invitations/invitations";
import { ADMITS_CALLERS, admitsCallers } from "../kernel/admission";
import type { Deps } from "../kernel/deps";
import { AppError, type ErrorCode } from "../kernel/errors";
import { actorOf, newEvent, userActor, withEvents } from "../kernel/event";
import { READABLE_STATUSES, readOrganization, readStanding, refusal, writable } from "../kernel/guard";
import { freshTokenVersion, type JoinRequest, type MemberRecord, memberOf, memberPath, normalizeEmail, type OrganizationDoc } from "../kernel/model";
import { defineOperation, runForRequest } from "../kernel/operation";
import type { Caller, Principal } from "../kernel/principal";
import { invitersOf } from "../kernel/roles";
import { type DomainDoc, domains, policyOf, policyPath } from "./domains";

/**
 * People finding their way in by their address's domain. An account whose address is verified at
 * a domain an organization verified sees that organization (`GET /auth/suggestions`) when the
 * domain's policy says so, and joins it at once (`auto_join`) or asks to (`suggest`), which an
 * owner or admin approves. Joining is one declared operation (`domain.join`) for both: the marker
 * is on the account (`domain_join`, written with the organization added to its list, so an account
 * never belongs somewhere it does not list); the member is then added by one update guarded by
 * the domain's policy, or by the request and the approver's standing; then the marker goes.
 */
const users = (deps: Deps) => deps.data.collection<AccountDoc>(USERS);

/** The most join requests an organization holds at once: its document carries them. */
export const MAX_JOIN_REQUESTS = 100;

const domainOf = (account: Pick<Account, "email">): string => {
  const email = normalizeEmail(account.email);
  return email.slice(email.lastIndexOf("@") + 1);
};

export interface Suggestion {
  org_id: string;
  organization_name: string;
  domain: string;
  policy: "auto_join" | "suggest";
  /** The role an `auto_join` gives; null for `suggest` (the approver chooses). */
  role: "member" | "admin" | null;
  /** The account asked to join and waits for an admin. */
  requested: boolean;
}

interface Found {
  doc: DomainDoc;
  org: OrganizationDoc;
  policy: "auto_join" | "suggest";
  role: "member" | "admin";
}

/**
 * The organization that verified the account's domain, when its policy lets the account in and the
 * account is not yet a member; a domain is verified by one organization at most, so at most one.
 */
const findSuggestion = async (deps: Deps, account: Account, orgId?: ObjectId): Promise<Found | null> => {
  if (!account.email_verified) return null;
  const doc = await domains(deps).findOne({ verified_domain: domainOf(account), ...(orgId ? { org_id: orgId } : {}) });
  if (!doc) return null;
  // Mid-rename it is still the organization to join: the join is answered busy, not missing.
  const org = await deps.organizations.findOne(
    { _id: doc.org_id, status: { $in: READABLE_STATUSES } },
    { projection: { organization_name: 1, status: 1, domain_policies: 1, join_requests: 1, suspended: 1, [memberPath(account.user_id)]: 1 } },
  );
  const entry = policyOf(org, doc._id);
  if (!org || !entry?.verified || !entry.policy || memberOf(org, account.user_id)) return null;
  return { doc, org, policy: entry.policy, role: entry.role ?? "member" };
};

const requestOf = (org: Pick<OrganizationDoc, "join_requests"> | null, userId: ObjectId) => org?.join_requests?.find((r) => r.user_id.equals(userId));

const requested = (org: Pick<OrganizationDoc, "join_requests">, userId: ObjectId) => requestOf(org, userId) !== undefined;

/** The request a join answers, for its mark: removed with the member by its exact value. */
const withRequest = (request: JoinRequest | undefined) => (request ? { request } : {});

export const suggestionsFor = async (deps: Deps, account: Account): Promise<{ email: string; email_verified: boolean; suggestions: Suggestion[] }> => {
  const found = await findSuggestion(deps, account);
  const suggestions: Suggestion[] =
    found && admitsCallers(found.org)
      ? [
          {
            org_id: found.org._id.toHexString(),
            organization_name: found.org.organization_name,
            domain: found.doc.domain,
            policy: found.policy,
            role: found.policy === "auto_join" ? found.role : null,
            requested: requested(found.org, account.user_id),
          },
        ]
      : [];
  return { email: account.email, email_verified: account.email_verified === true, suggestions };
};

export type JoinAnswer =
  | { status: "joined"; org_id: string; organization_name: string; role: string; access_token: string; token_type: "bearer" }
  | { status: "requested"; org_id: string; organization_name: string };

/** Joins the suggested organization (`auto_join`) or asks to (`suggest`). */
export const joinSuggested = async (deps: Deps, account: Account, orgId: ObjectId): Promise<JoinAnswer> => {
  if (!account.email_verified) throw new AppError("EMAIL_NOT_VERIFIED");
  if (account.org_ids.some((id) => id.equals(orgId))) throw new AppError("ALREADY_MEMBER");
  const found = await findSuggestion(deps, account, orgId);
  if (!found) throw new AppError("SUGGESTION_NOT_FOUND");
  if (!admitsCallers(found.org)) throw new AppError("ORGANIZATION_SUSPENDED");
  if (found.org.status !== "active") throw new AppError("ORGANIZATION_BUSY");
  const named = { org_id: found.org._id.toHexString(), organization_name: found.org.organization_name };
  if (found.policy === "suggest") {
    await askToJoin(deps, account, found);
    return { status: "requested", ...named };
  }
  const org = await autoJoin(deps, account, found);
  const member = memberOf(org, account.user_id) as MemberRecord;
  const access_token = await tokenFor(deps, org, member, member.token_version, true);
  return { status: "joined", ...named, role: member.role, access_token, token_type: "bearer" };
};

/** Joins by the domain's `auto_join` policy, taking along any request the account made while it was `suggest`. */
const autoJoin = (deps: Deps, account: Account, found: Found) =>
  joinByDomain(deps, account, {
    org_id: found.org._id,
    via: "auto_join",
    domain_id: found.doc._id,
    domain: found.doc.domain,
    role: found.role,
    ...withRequest(requestOf(found.org, account.user_id)),
  });

/**
 * At the address's verification: joins the organization whose `auto_join` domain it is, if any.
 * The verification stands whatever the join finds (a suspended organization, a policy changed meanwhile).
 */
export const joinOnVerification = async (deps: Deps, account: Account): Promise<{ org_id: string; organization_name: string; role: string }[]> => {
  const found = await findSuggestion(deps, account);
  if (found?.policy !== "auto_join" || !admitsCallers(found.org) || found.org.status !== "active") return [];
  try {
    const org = await autoJoin(deps, account, found);
    return [{ org_id: org._id.toHexString(), organization_name: org.organization_name, role: found.role }];
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return [];
    throw error;
  }
};

/** Puts the account's request on the organization: one guarded update, repeated asks answered alike. */
const askToJoin = async (deps: Deps, account: Account, found: Found): Promise<void> => {
  const now = deps.now();
  const request: JoinRequest = { user_id: account.user_id, email: account.email, domain: found.doc.domain, at: now };
  const event = newEvent(
    "member.join_requested",
    userActor({ userId: account.user_id }),
    { user_id: account.user_id.toHexString(), email: account.email, domain: found.doc.domain },
    now,
  );
  const { matchedCount } = await deps.organizations.updateOne(
    {
      _id: found.org._id,
      status: "active",
      ...ADMITS_CALLERS,
      [memberPath(account.user_id)]: { $exists: false },
      [policyPath(found.doc._id, "verified")]: true,
      [policyPath(found.doc._id, "policy")]: "suggest",
      "join_requests.user_id": { $ne: account.user_id },
      [`join_requests.${MAX_JOIN_REQUESTS - 1}`]: { $exists: false },
    },
    withEvents({ $push: { join_requests: request } }, event),
  );
  if (matchedCount > 0) {
    publishLater(deps, found.org._id);
    return;
  }
  const now2 = await deps.organizations.findOne({ _id: found.org._id }, { projection: { join_requests: 1 } });
  if (now2 && requested(now2, account.user_id)) return;
  if ((now2?.join_requests?.length ?? 0) >= MAX_JOIN_REQUESTS) throw new AppError("JOIN_REQUESTS_FULL");
  throw new AppError("SUGGESTION_NOT_FOUND");
};

export interface JoinRequestView {
  user_id: string;
  email: string;
  domain: string;
  requested_at: string;
}

export const listJoinRequests = async (deps: Deps, caller: Caller): Promise<{ requests: JoinRequestView[] }> => {
  const org = await readOrganization(deps, caller, { join_requests: 1 });
  return {
    requests: (org.join_requests ?? []).map((r) => ({ user_id: r.user_id.toHexString(), email: r.email, domain: r.domain, requested_at: r.at.toISOString() })),
  };
};

/**
 * Lets a requester in, as they could be invited (mayInvite): an owner or admin as a member or an
 * admin (the update adding them checks the approver's role); a member whose `member:invite` comes
 * from a role of the organization's own as a member only (the update checks that the approver and
 * the roles are as this read found them).
 */
export const approveJoinRequest = async (deps: Deps, principal: Principal, userId: ObjectId, role: "member" | "admin") => {
  const [org, account] = await Promise.all([
    readOrganization(deps, principal, { join_requests: 1, custom_roles: 1, roles_rev: 1, [memberPath(principal.userId)]: 1 }),
    findAccount(deps, userId),
  ]);
  const approver = memberOf(org, principal.userId);
  if (!approver || !mayInvite(org, approver, role)) throw new AppError("PERMISSION_DENIED");
  const request = requestOf(org, userId);
  if (!request || !account) throw new AppError("JOIN_REQUEST_NOT_FOUND");
  if (account.org_ids.some((id) => id.equals(org._id))) {
    // Joined meanwhile another way (an invitation): the request has its answer.
    await deps.organizations.updateOne(
      { _id: org._id, "join_requests.user_id": userId, "join_requests.at": request.at },
      { $pull: { join_requests: request } },
    );
    throw new AppError("ALREADY_MEMBER");
  }
  const standing = invitersOf(role).includes(approver.role)
    ? {}
    : { approver_standing: { token_version: approver.token_version, ...(org.roles_rev !== undefined ? { roles_rev: org.roles_rev } : {}) } };
  const joined = await joinByDomain(deps, account, {
    org_id: org._id,
    via: "approval",
    approved_by: principal.userId,
    domain: request.domain,
    role,
    request,
    ...standing,
  });
  const member = memberOf(joined, userId) as MemberRecord;
  return { user_id: userId.toHexString(), email: member.email, role: member.role, joined_at: member.joined_at.toISOString() };
};

/**
 * Turns a request down: it goes, with its event; the account may ask again. Read first, so that
 * the update pulls the request by its exact value, as every store does alike (FerretDB's `$pull`
 * matches whole elements only, and a partial one removed nothing there).
 */
export const declineJoinRequest = async (deps: Deps, caller: Caller, userId: ObjectId): Promise<void> => {
  const org = await readStanding(deps, caller, { join_requests: 1 });
  const request = requestOf(org, userId);
  if (!request) throw refusal(org, caller) ?? new AppError("JOIN_REQUEST_NOT_FOUND");
  const event = newEvent("member.join_declined", actorOf(caller), { user_id: userId.toHexString() }, deps.now());
  const { matchedCount } = await deps.organizations.updateOne(
    { ...writable(caller), "join_requests.user_id": userId, "join_requests.at": request.at },
    withEvents({ $pull: { join_requests: request } }, event),
  );
  if (matchedCount > 0) return publishLater(deps, caller.orgId);
  // Nothing in the document refuses the caller: the request is what is missing (a rename in flight is busy).
  throw refusal(await readStanding(deps, caller), caller) ?? new AppError("JOIN_REQUEST_NOT_FOUND");
};

/** A join by domain under way: the account as marked, and what the run learns. */
export interface DomainJoining {
  account: AccountDoc & Pick<Account, "user_id" | "email">;
  mark: DomainJoinMark;
  /** The organization joined, once the membership step ran. */
  org?: OrganizationDoc;
  /** Why it was undone. */
  refusal?: ErrorCode;
}

/** Marks the account and runs the join; answers the organization joined. */
const joinByDomain = async (deps: Deps, account: Account, join: Omit<DomainJoinMark, "at">): Promise<OrganizationDoc> => {
  const mark: DomainJoinMark = { ...join, at: deps.now() };
  // One join at a time per account; an organization it lists already is one it belongs to or is joining.
  const marked = await users(deps).findOneAndUpdate(
    { _id: account._id, user_id: account.user_id, domain_join: { $exists: false }, org_ids: { $ne: join.org_id } },
    { $set: { domain_join: mark }, $addToSet: { org_ids: join.org_id } },
    { returnNewDocument: true },
  );
  if (!marked) {
    const now = await users(deps).findOne({ _id: account._id }, { projection: { org_ids: 1 } });
    throw new AppError(now?.org_ids?.some((id) => id.equals(join.org_id)) ? "ALREADY_MEMBER" : "ORGANIZATION_BUSY");
  }
  const run: DomainJoining = { account: marked as DomainJoining["account"], mark };
  if ((await runForRequest(domainJoinOperation, deps, run)) === "undone" || !run.org) throw new AppError(run.refusal ?? "SUGGESTION_NOT_FOUND");
  return run.org;
};

/** What lets the member in, checked in the update that adds them. */
const admits = (mark: DomainJoinMark, userId: ObjectId): Record<string, unknown> =>
  mark.via === "auto_join" && mark.domain_id
    ? {
        [policyPath(mark.domain_id, "verified")]: true,
        [policyPath(mark.domain_id, "policy")]: "auto_join",
        [policyPath(mark.domain_id, "role")]: mark.role,
      }
    : {
        "join_requests.user_id": userId,
        ...(mark.request ? { "join_requests.at": mark.request.at } : {}),
        ...(mark.approver_standing
          ? {
              [memberPath(mark.approved_by ?? userId, "token_version")]: mark.approver_standing.token_version,
              roles_rev: mark.approver_standing.roles_rev ?? { $exists: false },
            }
          : { [memberPath(mark.approved_by ?? userId, "role")]: { $in: invitersOf(mark.role) } }),
      };

const addMember = async (deps: Deps, run: DomainJoining): Promise<"undone" | undefined> => {
  const { account, mark } = run;
  const member: MemberRecord = {
    user_id: account.user_id,
    email: account.email,
    email_key: normalizeEmail(account.email),
    role: mark.role,
    token_version: freshTokenVersion(),
    joined_at: mark.at,
  };
  const actor = mark.approved_by ? userActor({ userId: mark.approved_by }) : userActor({ userId: account.user_id });
  const joined = newEvent(
    "member.joined",
    actor,
    { user_id: account.user_id.toHexString(), email: account.email, role: mark.role, domain: mark.domain, via: mark.via },
    deps.now(),
  );
  const org = await deps.organizations.findOneAndUpdate(
    { _id: mark.org_id, status: "active", ...ADMITS_CALLERS, [memberPath(account.user_id)]: { $exists: false }, ...admits(mark, account.user_id) },
    withEvents(
      { $set: { [memberPath(account.user_id)]: member, updated_at: deps.now() }, ...(mark.request ? { $pull: { join_requests: mark.request } } : {}) },
      joined,
    ),
    { returnNewDocument: true },
  );
  if (org) {
    publishLater(deps, org._id);
    run.org = org;
    return;
  }
  const now = await deps.organizations.findOne({ _id: mark.org_id });
  // Already a member: an earlier run of this join got that far (or an invitation's accept did).
  if (now && memberOf(now, account.user_id)) {
    run.org = now;
    return;
  }
  // An approval whose request is still there as approved was refused for the approver's standing (a role changed meanwhile).
  const request = mark.request && requestOf(now, account.user_id);
  const standingLost = mark.via === "approval" && request !== undefined && request.at.getTime() === mark.request?.at.getTime();
  // An organization gone or going is refused as after its delete: to the person, nothing to join;
  // to the approver, a token whose organization is gone.
  run.refusal =
    !now || now.status === "deleting"
      ? mark.via === "approval"
        ? "INVALID_TOKEN"
        : "SUGGESTION_NOT_FOUND"
      : !admitsCallers(now)
        ? "ORGANIZATION_SUSPENDED"
        : now.status !== "active"
          ? "ORGANIZATION_BUSY"
          : mark.via !== "approval"
            ? "SUGGESTION_NOT_FOUND"
            : standingLost
              ? "PERMISSION_DENIED"
              : "JOIN_REQUEST_NOT_FOUND";
  await undoJoin(deps, account.user_id, mark);
  return "undone";
};

/**
 * The organization comes off the account's list with the marker, unless another join of it began
 * since (an invitation's accept marks `joining_at`): then the list is that join's to settle. An
 * account left in no organization that sign-up did not open closes, as after any last departure.
 */
const undoJoin = async (deps: Deps, userId: ObjectId, mark: DomainJoinMark): Promise<void> => {
  const ours = { user_id: userId, "domain_join.at": mark.at };
  const pulled = await users(deps).updateOne(
    { ...ours, $or: [{ joining_at: { $exists: false } }, { joining_at: { $lte: mark.at } }] },
    { $pull: { org_ids: mark.org_id }, $unset: { domain_join: "" } },
  );
  if (pulled.matchedCount === 0) await users(deps).updateOne(ours, { $unset: { domain_join: "" } });
  await users(deps).deleteOne({ user_id: userId, org_ids: { $size: 0 }, signed_up_at: { $exists: false }, domain_join: { $exists: false } });
};

export const domainJoinOperation = defineOperation<DomainJoining>({
  kind: "domain.join",
  marker: "the account, `domain_join` set",
  abandoned: async (deps, olderThan, limit) =>
    (await users(deps).find({ "domain_join.at": { $lt: olderThan } }, { limit })).flatMap((account) =>
      account.domain_join && account.user_id && account.email ? [{ account: account as DomainJoining["account"], mark: account.domain_join }] : [],
    ),
  steps: [
    { name: "add the member", run: addMember },
    {
      name: "clear the marker",
      afterAnswer: true,
      run: (deps, { account, mark }) => users(deps).updateOne({ user_id: account.user_id, "domain_join.at": mark.at }, { $unset: { domain_join: "" } }),
    },
  ],
});

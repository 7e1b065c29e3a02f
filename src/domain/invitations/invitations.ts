import { ObjectId } from "bson";
import type { Collection } from "../../data/client";
import type { IndexSpec } from "../../dataapi/engine";
import { invitationAllowed } from "../domains/policies";
import { type CarriedEvent, carriedEventOperation, relayNew } from "../events/carried";
import { hashSecret } from "../kernel/api-key-secret";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor } from "../kernel/event";
import { readOrganization, whyRefused } from "../kernel/guard";
import { acquireWriteLease } from "../kernel/leases";
import { type MemberRecord, memberOf, normalizeEmail, type OrganizationDoc, rolesOfMember } from "../kernel/model";
import { randomSecret } from "../kernel/one-time-secret";
import { runForRequest } from "../kernel/operation";
import type { Principal } from "../kernel/principal";
import { invitersOf, mayAssign, permissionsOfRole, ROLES, type Role } from "../kernel/roles";
import { insertInSlot, SLOT_INDEX } from "../kernel/slots";
import { carriedMailOperation } from "../mail/carried";
import type { QueuedMail } from "../mail/outbox";
import { permissionsOf } from "../roles/roles";
import { type Delivery, deliveriesOf, invitationMail, mailedHash } from "./mail";

/**
 * Invitations, in the master database's `invitations` collection: one pending per e-mail and
 * organization (a unique index), its token stored only as a SHA-256, at most
 * `maxPendingInvitations` pending per organization (kernel/slots.ts). Accepting is accept.ts.
 */
export const INVITATIONS = "invitations";

export interface InvitationDoc {
  [key: string]: unknown;
  _id: ObjectId;
  org_id: ObjectId;
  email: string;
  email_key: string;
  role: Role;
  token_hash: string;
  expires_at: Date;
  created_at: Date;
  invited_by: ObjectId;
  /** The teams (ids) the invitee joins as a plain member on accepting, those that still exist and the inviter may still fill. */
  teams?: string[];
  /** Which of the organization's `maxPendingInvitations` places it holds (slots.ts), until it is removed. */
  slot?: string;
  /** Set by the accept that won: who joins, and for a new account its hash. */
  claim?: { user_id: ObjectId; at: Date; password_hash?: string; new_account: boolean; verified?: true };
  /** With a mail transport: the SHA-256 of the mailed link's token (mail.ts), which verifies the address it was sent to. */
  mail_token_hash?: string;
  /** The mailed message in the outbox, for the delivery status the listing shows. */
  mail_id?: ObjectId;
  /** The message on its way to the outbox (mail/carried.ts). */
  carried_mail?: QueuedMail[];
  /** Revoked: refused from then on, and removed once its event is relayed. */
  revoked?: true;
  /** Events of this invitation's changes not yet relayed to the organization (events/carried.ts). */
  carried?: CarriedEvent[];
}

export const INVITATION_INDEXES: IndexSpec[] = [
  { key: { token_hash: 1 }, name: "token_hash_unique", unique: true },
  { key: { org_id: 1, email_key: 1 }, name: "org_email_unique", unique: true },
  SLOT_INDEX,
];

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  teams: string[];
  expires_at: string;
  created_at: string;
}

const viewOf = (doc: InvitationDoc): InvitationView => ({
  id: doc._id.toHexString(),
  email: doc.email,
  role: doc.role,
  teams: doc.teams ?? [],
  expires_at: doc.expires_at.toISOString(),
  created_at: doc.created_at.toISOString(),
});

const invitations = (deps: Deps) => deps.data.collection<InvitationDoc>(INVITATIONS);

/** What the invitation rules read of the organization: its members, and what its own roles give. */
type InviterState = Pick<OrganizationDoc, "members" | "custom_roles">;

/**
 * Whether a member may invite someone as `role`: an owner or admin as the built-in ladder says
 * (invitersOf); a member whose `member:invite` comes from a role of the organization's own only as
 * a member, and only while their roles give everything a member may do, so that no one hands out
 * more than they hold.
 */
export const mayInvite = (org: InviterState, inviter: MemberRecord, role: Role): boolean => {
  if (invitersOf(role).includes(inviter.role)) return true;
  const own = permissionsOf(org, rolesOfMember(inviter));
  return role === "member" && own.has("member:invite") && permissionsOfRole("member").every((permission) => own.has(permission));
};

/** Whether a member may put someone in a team: with `team:manage`, or as the team's lead. */
export const mayFillTeam = (org: InviterState, member: MemberRecord, teamId: string): boolean =>
  member.teams?.[teamId] === "lead" || permissionsOf(org, rolesOfMember(member)).has("team:manage");

/** Whether the invitation's inviter is still a member who may invite its role. */
export const inviterHoldsAuthority = (org: InviterState, invitation: Pick<InvitationDoc, "invited_by" | "role">): boolean => {
  const inviter = memberOf(org as OrganizationDoc, invitation.invited_by);
  return inviter !== undefined && mayInvite(org, inviter, invitation.role);
};

/**
 * The filter of pending invitations that give way to a new one: expired, or dead because their
 * inviter no longer holds the authority to invite them (removed, or demoted) as the members read
 * under the lease stand; the accept checks the inviter again, atomically.
 */
const givesWay = (org: InviterState, now: Date) => {
  const members = Object.values(org.members ?? {});
  return {
    claim: { $exists: false },
    revoked: { $exists: false },
    $or: [
      { expires_at: { $lte: now } },
      ...ROLES.map((role) => ({
        role,
        invited_by: { $nin: members.filter((member) => mayInvite(org, member, role)).map((member) => member.user_id) },
      })),
    ],
  };
};

/**
 * Frees a slot held by an invitation that gives way, one of several at random so that parallel
 * creates do not all pick the same: its events relayed first (the create relayed them already
 * unless it crashed), then it goes. Answers false when none gives way.
 */
const reclaimSlot = async (deps: Deps, leased: Collection<InvitationDoc>, org: InviterState & Pick<OrganizationDoc, "_id">, now: Date) => {
  const victims = await leased.find({ org_id: org._id, slot: { $exists: true }, ...givesWay(org, now) }, { limit: 10 });
  const victim = victims[Math.floor(Math.random() * victims.length)];
  if (!victim) return false;
  for (const carried of victim.carried ?? []) await relayNew(deps, carried);
  await leased.deleteOne({ _id: victim._id, ...givesWay(org, now) });
  return true;
};

/** An invitation carries its `invitation.created`, cleared after the answer. */
export const createInvitationOperation = carriedEventOperation({
  kind: "invitation.create",
  collection: INVITATIONS,
  type: "invitation.created",
  clearAfterAnswer: true,
});

/** A revoke marks the invitation (refused from then on) with its `invitation.revoked`; the invitation goes once that is relayed. */
export const revokeInvitationOperation = carriedEventOperation({
  kind: "invitation.revoke",
  collection: INVITATIONS,
  type: "invitation.revoked",
  removes: { revoked: true },
});

/** The invitation's message, carried on it until it is in the mail outbox. */
export const invitationMailOperation = carriedMailOperation({ kind: "invitation.mail", collection: INVITATIONS });

/**
 * Invites an e-mail with a role. At most `maxPendingInvitations` (MAX_PENDING_INVITATIONS, 1000 by
 * default: what the listing answered at most before) are pending per organization: each is a stored
 * document and an event with the e-mail sent to every webhook endpoint, so one admin token cannot
 * spray them without bound. The organization is read in the same guarded step that checks the
 * caller (and that the e-mail is not a member yet); an expired or dead invitation for the same
 * e-mail is replaced, and one of another e-mail gives its slot up when the organization is at its
 * limit. Answers the token once: only its hash is stored. The teams it names must exist and be
 * the inviter's to fill (`team:manage`, or their lead).
 */
export const createInvitation = async (deps: Deps, principal: Principal, input: { email: string; role: Role; teams?: string[] }) => {
  // A member of built-in roles alone is refused before any read; roles of the organization's own are read with the lease.
  if (!principal.customRoles?.length && !mayAssign(principal.role, undefined, input.role)) throw new AppError("PERMISSION_DENIED");
  // Under a write lease, like a record write: a delete waits for it, so no invitation outlives its organization.
  const lease = await acquireWriteLease(deps, principal, {
    set: { has_invitations: true },
    members: true,
    fields: { organization_name: 1, custom_roles: 1, teams: 1, invitation_domains: 1 },
  });
  if (!lease) throw await whyRefused(deps, principal);
  try {
    const org = lease.org as OrganizationDoc;
    const inviter = memberOf(org, principal.userId);
    if (!inviter || !mayInvite(org, inviter, input.role)) throw new AppError("PERMISSION_DENIED");
    const teams = [...new Set(input.teams ?? [])];
    if (teams.some((id) => !org.teams?.[id])) throw new AppError("TEAM_NOT_FOUND");
    if (!teams.every((id) => mayFillTeam(org, inviter, id))) throw new AppError("PERMISSION_DENIED");
    const email_key = normalizeEmail(input.email);
    if (!invitationAllowed(org, email_key)) throw new AppError("INVITATION_DOMAIN");
    if (Object.values(org.members ?? {}).some((m) => m.email_key === email_key)) throw new AppError("ALREADY_MEMBER");
    const now = deps.now();
    const token = randomSecret();
    // A second secret for the mailed link, bound to the invitation's id (mail.ts); none without a transport.
    const secret = deps.settings.mail.sends ? randomSecret() : undefined;
    const doc: InvitationDoc = {
      _id: new ObjectId(),
      org_id: lease.org._id,
      email: input.email,
      email_key,
      role: input.role,
      token_hash: await hashSecret(token),
      expires_at: new Date(now.getTime() + deps.settings.invitationTtlSeconds * 1000),
      created_at: now,
      invited_by: principal.userId,
      ...(teams.length ? { teams } : {}),
    };
    if (secret) doc.mail_token_hash = await mailedHash(doc._id, secret);
    const from = {
      inviter: inviter.email,
      organization: org.organization_name ?? "",
    };
    // The message is carried on the invitation, in the write that stores it (mail/carried.ts).
    const mailFor = (id: ObjectId) =>
      secret ? invitationMail(deps, { _id: id, org_id: doc.org_id, email: input.email, expires_at: doc.expires_at }, secret, from) : null;
    let mail = mailFor(doc._id);
    if (mail) doc.mail_id = mail.id;
    const leased = deps.data.collection<InvitationDoc>(INVITATIONS, { deadline: lease.until });
    const created = (id: ObjectId): CarriedEvent => ({
      org_ids: [lease.org._id],
      event: newEvent(
        "invitation.created",
        userActor(principal),
        {
          invitation_id: id.toHexString(),
          email: input.email,
          role: input.role,
          ...(teams.length ? { teams } : {}),
          expires_at: doc.expires_at.toISOString(),
        },
        now,
      ),
    });
    let answer: InvitationDoc = doc;
    let event = created(doc._id);
    const carrying = { ...doc, carried: [event], ...(mail ? { carried_mail: [mail] } : {}) };
    const sameEmail = async () => (await leased.findOne({ org_id: lease.org._id, email_key }, { projection: { _id: 1 } })) !== null;
    let placed = await insertInSlot(leased, carrying, deps.settings.maxPendingInvitations, { isOtherConflict: sameEmail });
    // Full: one that gives way is removed and its place tried, while any is left (a parallel create may take it first).
    for (let round = 0; placed === "full" && round < 8 && (await reclaimSlot(deps, leased, org, now)); round++) {
      placed = await insertInSlot(leased, carrying, deps.settings.maxPendingInvitations, { readFirst: true, isOtherConflict: sameEmail });
    }
    if (placed === "full") throw new AppError((await sameEmail()) ? "INVITATION_EXISTS" : "INVITATION_LIMIT");
    if (placed === "busy") throw new AppError("ORGANIZATION_BUSY");
    if (placed === "conflict") {
      // The pending one for this e-mail gives way if expired or dead, keeping its slot and any event it still carries.
      const { _id: _new, ...fresh } = doc;
      const stale = await leased.findOne({ org_id: lease.org._id, email_key, ...givesWay(org, now) });
      if (!stale) throw new AppError("INVITATION_EXISTS");
      event = created(stale._id);
      mail = mailFor(stale._id);
      // The replaced invitation's mailed link, if any, stops working with it, and a message of it not
      // yet queued goes too; so do teams it named and this one does not.
      const mailed = secret && mail ? { mail_token_hash: await mailedHash(stale._id, secret), mail_id: mail.id, carried_mail: [mail] } : null;
      const unset = { ...(mailed ? {} : { mail_token_hash: "", mail_id: "", carried_mail: "" }), ...(teams.length ? {} : { teams: "" }) };
      const link = { $set: { ...fresh, ...mailed }, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
      const replaced = await leased.findOneAndUpdate(
        { _id: stale._id, ...givesWay(org, now) },
        { ...link, $push: { carried: event } },
        { returnNewDocument: true },
      );
      if (!replaced) throw new AppError("INVITATION_EXISTS");
      answer = replaced;
    }
    await runForRequest(createInvitationOperation, deps, { carrier: answer._id, carried: event });
    if (mail) await runForRequest(invitationMailOperation, deps, { carrier: answer._id, mail });
    return { ...viewOf(answer), token };
  } finally {
    lease.release();
  }
};

export const listInvitations = async (deps: Deps, principal: Principal): Promise<{ invitations: (InvitationView & { delivery: Delivery | null })[] }> => {
  const org = await readOrganization(deps, principal);
  // Uncapped (the limit bounds it), without those whose inviter no longer may invite them: the accept refuses those.
  const docs = await invitations(deps).find(
    { org_id: org._id, expires_at: { $gt: deps.now() }, claim: { $exists: false }, revoked: { $exists: false } },
    { sort: { _id: 1 } },
  );
  const listed = docs.filter((doc) => inviterHoldsAuthority(org, doc));
  const deliveries = await deliveriesOf(deps, listed);
  // A message still carried (not yet in the outbox) is as good as pending.
  const deliveryOf = (doc: InvitationDoc): Delivery | null =>
    (doc.mail_id && deliveries.get(doc.mail_id.toHexString())) || (doc.carried_mail?.length ? { status: "pending", attempts: 0, last_error: null } : null);
  return { invitations: listed.map((doc) => ({ ...viewOf(doc), delivery: deliveryOf(doc) })) };
};

/**
 * Revokes a pending invitation under a write lease, as a create is made: a suspension (or a delete)
 * waits for a revoke it did not refuse, so none lands after its answer.
 */
export const revokeInvitation = async (deps: Deps, principal: Principal, id: ObjectId): Promise<void> => {
  const lease = await acquireWriteLease(deps, principal);
  if (!lease) throw await whyRefused(deps, principal);
  try {
    const leased = deps.data.collection<InvitationDoc>(INVITATIONS, { deadline: lease.until });
    const revoked: CarriedEvent = {
      org_ids: [lease.org._id],
      event: newEvent("invitation.revoked", userActor(principal), { invitation_id: id.toHexString() }, deps.now()),
    };
    // Marked (refused from now on) with its event, relayed, then removed: the reconciler finishes the last two.
    const marked = await leased.findOneAndUpdate(
      { _id: id, org_id: lease.org._id, claim: { $exists: false }, revoked: { $exists: false } },
      { $set: { revoked: true }, $push: { carried: revoked } },
    );
    if (!marked) throw new AppError("INVITATION_NOT_FOUND");
    await runForRequest(revokeInvitationOperation, deps, { carrier: id, carried: revoked });
  } finally {
    lease.release();
  }
};

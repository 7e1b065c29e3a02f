import type { ObjectId } from "bson";
import { publishLater } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { actorOf, newEvent, withEvents } from "../kernel/event";
import { whyRefused, writable } from "../kernel/guard";
import type { OrganizationDoc } from "../kernel/model";
import { type Caller, isApiKey } from "../kernel/principal";
import { invitersOf } from "../kernel/roles";
import { type DomainView, domains, policyOf, policyPath, viewOf } from "./domains";

/**
 * What people at a verified domain may do: join at once (`auto_join`, with a role), ask to join
 * for an admin to approve (`suggest`), or neither. The policy is kept on the organization's
 * document beside the flag that the domain is verified (domains.ts), so a join checks both in the
 * update that adds the member; a policy set on a domain not yet verified waits for it.
 */
export type DomainPolicy = "auto_join" | "suggest" | "none";

export interface PolicyInput {
  policy: DomainPolicy;
  role?: "member" | "admin";
}

/** Sets a domain's policy: one update of the organization, with its event. Admins join only by the policy of an owner or admin. */
export const setDomainPolicy = async (deps: Deps, caller: Caller, id: ObjectId, input: PolicyInput): Promise<DomainView> => {
  const role = input.policy === "auto_join" ? (input.role ?? "member") : undefined;
  // Nobody hands out more than they hold: a key or a custom role's holder sets members' policies only.
  if (role === "admin" && (isApiKey(caller) || !invitersOf("admin").includes(caller.role))) throw new AppError("PERMISSION_DENIED");
  const doc = await domains(deps).findOne({ _id: id, org_id: caller.orgId, deleted: { $exists: false } });
  if (!doc) throw new AppError("DOMAIN_NOT_FOUND");
  const event = newEvent(
    "domain.policy_changed",
    actorOf(caller),
    { domain_id: doc._id.toHexString(), domain: doc.domain, policy: input.policy, ...(role ? { role } : {}) },
    deps.now(),
  );
  const set = input.policy === "none" ? {} : { [policyPath(id, "policy")]: input.policy, ...(role ? { [policyPath(id, "role")]: role } : {}) };
  const unset = { ...(input.policy === "none" ? { [policyPath(id, "policy")]: "" } : {}), ...(role ? {} : { [policyPath(id, "role")]: "" }) };
  const org = await deps.organizations.findOneAndUpdate(
    writable(caller),
    withEvents({ $set: { [policyPath(id, "domain")]: doc.domain, ...set }, ...(Object.keys(unset).length ? { $unset: unset } : {}) }, event),
    { returnNewDocument: true, projection: { domain_policies: 1 } },
  );
  if (!org) throw await whyRefused(deps, caller);
  publishLater(deps, caller.orgId);
  return viewOf(doc, policyOf(org, id));
};

/** Whether an invitation may go to this address: always, unless the organization lists the domains invitations may go to. */
export const invitationAllowed = (org: Pick<OrganizationDoc, "invitation_domains">, email: string): boolean => {
  const allowed = org.invitation_domains;
  if (!allowed?.length) return true;
  return allowed.includes(email.slice(email.lastIndexOf("@") + 1).toLowerCase());
};

/** Sets (or with none, clears) the domains invitations may go to; pending invitations stay. */
export const setInvitationDomains = async (deps: Deps, caller: Caller, list: string[]): Promise<{ domains: string[] }> => {
  const unique = [...new Set(list)].sort();
  const { matchedCount } = await deps.organizations.updateOne(
    writable(caller),
    unique.length ? { $set: { invitation_domains: unique } } : { $unset: { invitation_domains: "" } },
  );
  if (matchedCount === 0) throw await whyRefused(deps, caller);
  return { domains: unique };
};

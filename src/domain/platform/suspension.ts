import type { ObjectId } from "bson";
import { publishLater } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, withEvents } from "../kernel/event";
import { drainWriters } from "../kernel/leases";
import type { OrganizationDoc } from "../kernel/model";
import { countRecords, detailOf, type OrganizationDetail } from "./detail";

/**
 * Suspends: marks the organization (whatever its lifecycle status, which carries on), then waits
 * out the record writes (and invitation creates and revokes) that took their lease before the mark, so that after the
 * answer no record write of the organization can still land. Login, tokens, records, membership
 * changes, invitations and the members' rename and delete are refused from the mark on (admission.ts). Suspending a suspended organization
 * changes nothing and answers the same: the first reason and time stay.
 */
export const suspendOrganization = async (deps: Deps, id: ObjectId, reason: string, keyId: string): Promise<OrganizationDetail> => {
  const now = deps.now();
  const suspended = newEvent("organization.suspended", { type: "operator", key_id: keyId }, { reason }, now);
  const marked = await deps.organizations.findOneAndUpdate(
    { _id: id, suspended: { $ne: true } },
    withEvents({ $set: { suspended: true, suspension: { at: now, reason, by_key_id: keyId }, updated_at: now } }, suspended),
    { returnNewDocument: true },
  );
  if (marked) publishLater(deps, id);
  const org = marked ?? (await deps.organizations.findOne({ _id: id }));
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  // Already suspended: the leases of the document just read, in case the first suspension is still draining them.
  await drainWriters(deps, id, org.write_leases ?? {});
  const { write_leases: _leases, ...rest } = org;
  return detailOf(rest as OrganizationDoc, await countRecords(deps, org));
};

/** Lifts a suspension (recording `organization.reactivated`); an organization not suspended is answered as it is, unchanged. */
export const reactivateOrganization = async (deps: Deps, id: ObjectId, keyId: string): Promise<OrganizationDetail> => {
  const now = deps.now();
  const reactivated = newEvent("organization.reactivated", { type: "operator", key_id: keyId }, {}, now);
  const lifted = await deps.organizations.findOneAndUpdate(
    { _id: id, suspended: true },
    withEvents({ $unset: { suspended: "", suspension: "" }, $set: { updated_at: now } }, reactivated),
    { returnNewDocument: true, projection: { write_leases: 0 } },
  );
  if (lifted) publishLater(deps, id);
  const org = lifted ?? (await deps.organizations.findOne({ _id: id }, { projection: { write_leases: 0 } }));
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  return detailOf(org, await countRecords(deps, org));
};

import type { ObjectId } from "bson";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, withEvents } from "../kernel/event";
import { finishDelete } from "../organizations/steps";

/**
 * An owner's delete, started by the operator: mark `deleting` (from `active` only: another
 * operation in flight is a 409, as for an owner), then the same resumable steps (the collection,
 * the members' accounts, the invitations, the organization), which the reconciler finishes after a crash. A suspended organization can be deleted; it stays suspended
 * until it is gone.
 */
export const removeOrganization = async (deps: Deps, id: ObjectId, keyId: string): Promise<{ organization_name: string }> => {
  const now = deps.now();
  const deleted = newEvent("organization.deleted", { type: "operator", key_id: keyId }, {}, now);
  const org = await deps.organizations.findOneAndUpdate(
    { _id: id, status: "active" },
    withEvents({ $set: { status: "deleting", updated_at: now, pending: { op: "delete", started_at: now } } }, deleted),
    { returnNewDocument: true },
  );
  if (!org) {
    const exists = await deps.organizations.findOne({ _id: id }, { projection: { _id: 1 } });
    throw new AppError(exists ? "ORGANIZATION_BUSY" : "ORGANIZATION_NOT_FOUND");
  }
  await finishDelete(deps, org);
  return { organization_name: org.organization_name };
};

import type { ObjectId } from "bson";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { runForRequest } from "../kernel/operation";
import { deleteOperation, markDeleting } from "../organizations/operations";

/**
 * An owner's delete, started by the operator: mark `deleting` (from `active` only: another
 * operation in flight is a 409, as for an owner), then the same operation as an owner's delete,
 * which the reconciler finishes after a crash. A suspended organization can be deleted; it stays
 * suspended until it is gone.
 */
export const removeOrganization = async (deps: Deps, id: ObjectId, keyId: string): Promise<{ organization_name: string }> => {
  const org = await markDeleting(deps, { _id: id }, { type: "operator", key_id: keyId });
  if (!org) {
    const exists = await deps.organizations.findOne({ _id: id }, { projection: { _id: 1 } });
    throw new AppError(exists ? "ORGANIZATION_BUSY" : "ORGANIZATION_NOT_FOUND");
  }
  await runForRequest(deleteOperation, deps, org);
  return { organization_name: org.organization_name };
};

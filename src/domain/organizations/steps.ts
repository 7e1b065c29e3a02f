import { ObjectId } from "bson";
import { DataError, DataUnavailableError } from "../../data/errors";
import { leaveAccounts } from "../accounts/accounts";
import { EVENTS, publishLater } from "../events/outbox";
import { INVITATIONS } from "../invitations/invitations";
import type { Deps } from "../kernel/deps";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { drainWriters } from "../kernel/leases";
import type { Actor, OrganizationDoc, OutboxEvent } from "../kernel/model";
import { WEBHOOK_DELIVERIES, WEBHOOKS } from "../webhooks/endpoints";
import { farewellsOf } from "../webhooks/farewells";

/**
 * The idempotent steps of create, rename and delete, shared by the request path and the
 * reconciler. Each write is guarded by the status it expects, so repeating a step that already
 * happened changes nothing.
 */

/** Creates the tenant collection (existing is fine) and activates the organization, recording `organization.created`. */
export const finishCreate = async (deps: Deps, org: Pick<OrganizationDoc, "_id" | "collection_name" | "organization_name" | "members">): Promise<void> => {
  await deps.data.collection(org.collection_name).create();
  const now = deps.now();
  const creator = Object.values(org.members ?? {})[0];
  const created = newEvent(
    "organization.created",
    creator ? userActor({ userId: creator.user_id }) : { type: "system" },
    { organization_name: org.organization_name, collection_name: org.collection_name },
    now,
  );
  await deps.organizations.updateOne(
    { _id: org._id, status: "creating" },
    withEvents({ $set: { status: "active", updated_at: now }, $unset: { pending: "" } }, created),
  );
  publishLater(deps, org._id);
};

/** Everyone an organization's accounts list it for: its members, and those whose removal is still finishing. */
const peopleOf = (org: Pick<OrganizationDoc, "members" | "departures">): ObjectId[] => [
  ...Object.keys(org.members ?? {}).map((hex) => ObjectId.createFromHexString(hex)),
  ...(org.departures ?? []).map((d) => d.user_id),
];

/**
 * Waits out the writes in flight (records, invitations), drops the tenant collection (missing is
 * fine), takes the organization off its people's accounts (closing those left with none), removes
 * its invitations, then the organization. No write can land after the drop (see write-leases.ts);
 * each step repeats harmlessly, so the reconciler finishes from the organization document.
 */
export const finishDelete = async (
  deps: Deps,
  org: Pick<
    OrganizationDoc,
    "_id" | "collection_name" | "write_leases" | "publish_leases" | "members" | "departures" | "has_invitations" | "has_webhooks" | "outbox" | "event_seq"
  >,
): Promise<void> => {
  await drainWriters(deps, org._id, org.write_leases);
  // Publishers too (they hold leases of their own, which a rename does not wait for): none can add an event after the events go.
  await drainWriters(deps, org._id, org.publish_leases ?? {}, "publish_leases");
  await deps.data.collection(org.collection_name).drop();
  // Before the endpoints and the feed go: what each endpoint is still owed, its organization.deleted
  // among them, is handed to the dispatcher whole (a repeat hands the same keys over again).
  if (org.has_webhooks && deps.handOffFarewells) {
    const farewells = await farewellsOf(deps, org);
    if (farewells.length > 0) await deps.handOffFarewells(org._id, farewells);
  }
  await Promise.all([
    leaveAccounts(deps, peopleOf(org), org._id),
    org.has_invitations ? deps.data.collection(INVITATIONS).deleteMany({ org_id: org._id }) : undefined,
    // After the drain: no publisher (it holds a lease) can add one back.
    deps.data.collection(EVENTS).deleteMany({ org_id: org._id }),
    // The endpoints before their log: an attempt in flight logs, then looks for its endpoint, and
    // removes its log if it is gone (send.ts, logAttempt); if it still saw it, this removal comes after.
    org.has_webhooks
      ? deps.data
          .collection(WEBHOOKS)
          .deleteMany({ org_id: org._id })
          .then(() => deps.data.collection(WEBHOOK_DELIVERIES).deleteMany({ org_id: org._id }))
      : undefined,
  ]);
  await deps.organizations.deleteOne({ _id: org._id, status: "deleting" });
  // Its dispatcher finds no endpoint, removes any delivery it logged meanwhile, and clears itself.
  if (org.has_webhooks) deps.wakeWebhooks?.(org._id);
};

/**
 * Waits out the record writes in flight, then moves the tenant collection by renameCollection
 * (metadata only), never by copying documents.
 */
export const moveTenantCollection = async (
  deps: Deps,
  org: Pick<OrganizationDoc, "_id" | "write_leases">,
  from: string,
  to: string,
): Promise<"moved" | "target-exists"> => {
  await drainWriters(deps, org._id, org.write_leases);
  try {
    await deps.data.collection(from).renameTo(to);
    return "moved";
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    if (error.code === "NamespaceExists") {
      // FerretDB checks the target before the source: a source another attempt of this rename
      // already moved (two reconcilers at once) answers as if the target were in the way. Only a
      // source still there means the target was there before the move.
      const sourceLeft = (await deps.data.listCollections({ name: from })).length > 0;
      return sourceLeft ? "target-exists" : "moved";
    }
    if (error.code !== "NamespaceNotFound") throw error;
    // Already moved by an interrupted attempt, or the source never existed: the target must exist.
    await deps.data.collection(to).create();
    return "moved";
  }
};

/** Activates under the new name and records `organization.renamed` (the event the rename's mark prepared). */
export const finishRename = async (deps: Deps, id: ObjectId, to: string, renamed: OutboxEvent): Promise<Date> => {
  const updated_at = deps.now();
  await deps.organizations.updateOne(
    { _id: id, status: "renaming" },
    withEvents({ $set: { status: "active", collection_name: to, updated_at }, $unset: { pending: "", write_leases: "" } }, renamed),
  );
  publishLater(deps, id);
  return updated_at;
};

/** The event a rename records as it finishes: prepared when it was marked, so that a repeat by the reconciler records the same one. */
export const renamedEvent = (actor: Actor, from: string, to: string, collection: string, at: Date): OutboxEvent =>
  newEvent("organization.renamed", actor, { from, to, collection_name: collection }, at);

/** Puts back the old name when the new name's collection turned out to exist already. */
export const undoRename = async (deps: Deps, id: ObjectId, name: string, slug: string): Promise<void> => {
  await deps.organizations.updateOne(
    { _id: id, status: "renaming" },
    { $set: { organization_name: name, slug, status: "active", updated_at: deps.now() }, $unset: { pending: "", write_leases: "" } },
  );
};

/**
 * A store answered that it will never accept this step (a 4xx other than the conflicts the steps
 * expect), e.g. a collection name one store allows and another refuses. Repeating it cannot help.
 */
export const isPermanentFailure = (error: unknown): error is DataError => error instanceof DataError && !(error instanceof DataUnavailableError);

/** Undoes a create whose collection the store refused: the name is free again, and the e-mail if the account has no other organization. */
export const abandonCreate = async (deps: Deps, org: Pick<OrganizationDoc, "_id" | "members" | "departures">): Promise<void> => {
  await deps.organizations.deleteOne({ _id: org._id, status: "creating" });
  await leaveAccounts(deps, peopleOf(org), org._id);
};

/** Marks an operation that can neither finish nor be undone, so the reconciler stops retrying it and an operator can look. */
export const markFailed = async (deps: Deps, org: Pick<OrganizationDoc, "_id" | "status">, error: DataError): Promise<void> => {
  await deps.organizations.updateOne({ _id: org._id, status: org.status }, { $set: { "pending.failed_at": deps.now(), "pending.error": error.code } });
};

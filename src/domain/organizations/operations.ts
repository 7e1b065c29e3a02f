import { ObjectId } from "bson";
import { DataError } from "../../data/errors";
import { leaveAccounts } from "../accounts/accounts";
import { confirmJoin } from "../accounts/joining";
import { DOMAINS } from "../domains/domains";
import { EVENTS, publishLater } from "../events/outbox";
import { INVITATIONS } from "../invitations/invitations";
import type { Deps } from "../kernel/deps";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { drainWriters } from "../kernel/leases";
import type { Actor, OrganizationDoc, OrgStatus, OutboxEvent } from "../kernel/model";
import { defineOperation, type Operation } from "../kernel/operation";
import { MAIL_OUTBOX } from "../mail/outbox";
import { WEBHOOK_DELIVERIES, WEBHOOKS } from "../webhooks/endpoints";
import { lastDeliveriesOf } from "../webhooks/last-deliveries";

/**
 * Create, rename and delete: the organization's document is the marker (`status` other than
 * `active`, and `pending` saying since when and, for a rename, from where to where). Each step's
 * write is guarded by the status it expects, so repeating a step that already happened changes
 * nothing; the last step sets `active` again, or removes the document.
 */

/** Markers of one lifecycle status that a crash left, oldest first; one flagged failed is left to an operator. */
const abandonedWith =
  (status: OrgStatus) =>
  (deps: Deps, olderThan: Date, limit: number): Promise<OrganizationDoc[]> =>
    deps.organizations.find({ status, "pending.started_at": { $lt: olderThan }, "pending.failed_at": { $exists: false } }, { limit });

/** Flags an operation that can neither finish nor be undone: the reconciler stops retrying it, and an operator can look. */
const flagFailed = async (deps: Deps, org: Pick<OrganizationDoc, "_id" | "status">, error: DataError): Promise<void> => {
  await deps.organizations.updateOne({ _id: org._id, status: org.status }, { $set: { "pending.failed_at": deps.now(), "pending.error": error.code } });
};

/** Everyone an organization's accounts list it for: its members, and those whose removal is still finishing. */
const peopleOf = (org: Pick<OrganizationDoc, "members" | "departures">): ObjectId[] => [
  ...Object.keys(org.members ?? {}).map((hex) => ObjectId.createFromHexString(hex)),
  ...(org.departures ?? []).map((d) => d.user_id),
];

/** A `creating` organization has one member: the person creating it. */
const creatorOf = (org: OrganizationDoc) => Object.values(org.members ?? {})[0];

/**
 * Create: the request reserves the creator's account, then inserts the organization `creating`
 * (its owner and both names reserved by unique indexes); the steps make its collection and
 * activate it. Its record is complete from the insert on, so finishing is always possible; a
 * store that refuses the collection's name for good undoes it.
 */
export const createOperation: Operation<OrganizationDoc> = defineOperation({
  kind: "organization.create",
  marker: "the organization, `creating`",
  abandoned: abandonedWith("creating"),
  steps: [
    {
      name: "create the collection",
      run: async (deps, org) => {
        await deps.data.collection(org.collection_name).create();
      },
    },
    {
      name: "activate",
      run: async (deps, org) => {
        const now = deps.now();
        const creator = creatorOf(org);
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
      },
    },
    {
      name: "confirm the creator's join",
      afterAnswer: true,
      run: async (deps, org) => {
        const creator = creatorOf(org);
        if (creator) await confirmJoin(deps, creator.user_id);
      },
    },
  ],
  // The name is free again, and the e-mail if the account has no other organization.
  undo: async (deps, org) => {
    await deps.organizations.deleteOne({ _id: org._id, status: "creating" });
    await leaveAccounts(deps, peopleOf(org), org._id);
  },
});

const renameOf = (org: OrganizationDoc) => {
  if (org.pending?.op !== "rename") throw new Error(`organization ${org._id.toHexString()} is renaming without a rename pending`);
  return org.pending;
};

/** The event a rename records as it finishes: prepared when it was marked, so that a repeat by the reconciler records the same one. */
export const renamedEvent = (actor: Actor, from: string, to: string, collection: string, at: Date): OutboxEvent =>
  newEvent("organization.renamed", actor, { from, to, collection_name: collection }, at);

/** Puts back the old name: the new name's collection turned out to exist, or the store refused it. */
const undoRename = async (deps: Deps, org: OrganizationDoc): Promise<void> => {
  const { from_name, from_slug } = renameOf(org);
  await deps.organizations.updateOne(
    { _id: org._id, status: "renaming" },
    { $set: { organization_name: from_name, slug: from_slug, status: "active", updated_at: deps.now() }, $unset: { pending: "", write_leases: "" } },
  );
};

/**
 * Moves the tenant collection by renameCollection (metadata only, never by copying documents).
 * `"target-exists"`: the target was there before the move, and the source still holds the data.
 */
const moveCollection = async (deps: Deps, from: string, to: string): Promise<"moved" | "target-exists"> => {
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

/**
 * Rename: the request reserves the new slug and marks `renaming` in one guarded update (the
 * unchanged `collection_name` keeps the old collection's name reserved meanwhile); the steps wait
 * out the record writes in flight, move the collection, and activate under the new name.
 */
export const renameOperation: Operation<OrganizationDoc> = defineOperation({
  kind: "organization.rename",
  marker: "the organization, `renaming`, with `pending` naming both collections",
  abandoned: abandonedWith("renaming"),
  steps: [
    {
      name: "wait for record writes",
      // No write can land in the old collection after the move (see kernel/leases.ts).
      run: async (deps, org) => {
        await drainWriters(deps, org._id, org.write_leases);
      },
    },
    {
      name: "move the collection",
      run: async (deps, org) => {
        const { from_collection, to_collection } = renameOf(org);
        if ((await moveCollection(deps, from_collection, to_collection)) === "moved") return undefined;
        await undoRename(deps, org);
        return "undone";
      },
    },
    {
      name: "activate",
      run: async (deps, org) => {
        const pending = renameOf(org);
        // A rename marked before events existed has none prepared: the service records it as its own.
        const renamed = pending.event ?? renamedEvent({ type: "system" }, pending.from_name, org.organization_name, pending.to_collection, deps.now());
        const updated_at = deps.now();
        await deps.organizations.updateOne(
          { _id: org._id, status: "renaming" },
          withEvents({ $set: { status: "active", collection_name: pending.to_collection, updated_at }, $unset: { pending: "", write_leases: "" } }, renamed),
        );
        // The request answers with the time stored.
        org.updated_at = updated_at;
        publishLater(deps, org._id);
      },
    },
  ],
  undo: undoRename,
});

/**
 * Marks an organization `deleting` (nothing else can start on it), recording `organization.deleted`
 * with the mark, from which the delete always finishes. Answers the marked document, or null when
 * `guard` (which names `active` and whatever the caller must prove) matched nothing.
 */
export const markDeleting = (deps: Deps, guard: Record<string, unknown>, actor: Actor): Promise<OrganizationDoc | null> => {
  const now = deps.now();
  const deleted = newEvent("organization.deleted", actor, {}, now);
  return deps.organizations.findOneAndUpdate(
    { ...guard, status: "active" },
    withEvents({ $set: { status: "deleting", updated_at: now, pending: { op: "delete", started_at: now } } }, deleted),
    { returnNewDocument: true },
  );
};

/**
 * Delete: waits out the writers and the event publishers (no write or event can land after),
 * drops the tenant collection, hands each webhook endpoint's last deliveries to its dispatcher,
 * removes everything else the organization owns, then the organization. A suspended organization
 * is deleted all the same. Nothing can be undone once the collection is dropped: a step refused
 * for good is flagged for an operator.
 */
export const deleteOperation: Operation<OrganizationDoc> = defineOperation({
  kind: "organization.delete",
  marker: "the organization, `deleting`",
  abandoned: abandonedWith("deleting"),
  steps: [
    {
      name: "wait for writers and publishers",
      run: async (deps, org) => {
        await drainWriters(deps, org._id, org.write_leases);
        // Publishers hold leases of their own, which a rename does not wait for: none can add an event after the events go.
        await drainWriters(deps, org._id, org.publish_leases ?? {}, "publish_leases");
      },
    },
    {
      name: "drop the collection",
      run: async (deps, org) => {
        await deps.data.collection(org.collection_name).drop();
      },
    },
    {
      name: "hand over the last deliveries",
      // Before the endpoints and the feed go: what each endpoint is still owed, its
      // organization.deleted among them (a repeat hands the same keys over again).
      run: async (deps, org) => {
        if (!org.has_webhooks || !deps.handOverLastDeliveries) return;
        const deliveries = await lastDeliveriesOf(deps, org);
        if (deliveries.length > 0) await deps.handOverLastDeliveries(org._id, deliveries);
      },
    },
    {
      name: "remove what it owns",
      run: async (deps, org) => {
        await Promise.all([
          leaveAccounts(deps, peopleOf(org), org._id),
          // The invitations, then their messages, sent or not (mail/outbox.ts): one queued meanwhile finds its invitation gone.
          org.has_invitations
            ? deps.data
                .collection(INVITATIONS)
                .deleteMany({ org_id: org._id })
                .then(() => deps.data.collection(MAIL_OUTBOX).deleteMany({ org_id: org._id }))
            : undefined,
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
          // Its domains, verified or not: released for another organization to claim.
          org.has_domains ? deps.data.collection(DOMAINS).deleteMany({ org_id: org._id }) : undefined,
        ]);
      },
    },
    {
      name: "remove the organization",
      run: async (deps, org) => {
        await deps.organizations.deleteOne({ _id: org._id, status: "deleting" });
        // Its dispatcher finds no endpoint, removes any delivery it logged meanwhile, and clears itself.
        if (org.has_webhooks) deps.wakeWebhooks?.(org._id);
      },
    },
  ],
  flagFailed,
});

import type { DataError } from "../../data/errors";
import { AUDIT_LOG, type AuditAction, type AuditEvent } from "../audit/audit";
import { publishLeftovers } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import type { OrganizationDoc } from "../kernel/model";
import {
  abandonCreate,
  finishCreate,
  finishDelete,
  finishRename,
  isPermanentFailure,
  markFailed,
  moveTenantCollection,
  renamedEvent,
  undoRename,
} from "../organizations/steps";
import { relayLeftovers } from "./events";
import { type MembershipReport, reconcileMemberships } from "./members";

export interface ReconcileReport extends MembershipReport {
  /** Organizations whose events waited in the outbox (failed logins, or their publisher died), published. */
  events: number;
  /** Events carried on an invitation or an account that their request did not relay, relayed. */
  relayed: number;
  examined: number;
  finished: number;
  rolledBack: number;
  /** Operations a store refused for good: undone where possible, else marked failed; never retried. */
  abandoned: number;
  failed: number;
}

/** How many stuck operations one run looks at; the next run takes the rest. */
const BATCH = 100;

/**
 * Settles operations that a crash, timeout or lost response left half-done. It uses the same
 * idempotent, status-guarded steps as the requests, so it may overlap live requests (it only
 * takes operations older than `olderThan`) and other runs: whoever comes second finds the step
 * done, or the guard unmatched, and moves on. A step the store refuses for good (not a timeout)
 * is given up: a create is undone, a rename put back, anything else marked failed and left alone.
 */
export const reconcile = async (deps: Deps, olderThan: Date): Promise<ReconcileReport> => {
  const stuck = await deps.organizations.find(
    { status: { $in: ["creating", "renaming", "deleting"] }, "pending.started_at": { $lt: olderThan }, "pending.failed_at": { $exists: false } },
    { limit: BATCH },
  );
  const report: ReconcileReport = {
    examined: stuck.length,
    finished: 0,
    rolledBack: 0,
    abandoned: 0,
    failed: 0,
    accepts: 0,
    departures: 0,
    accounts: 0,
    events: 0,
    relayed: 0,
  };
  for (const org of stuck) {
    try {
      report[await settle(deps, org)]++;
    } catch (error) {
      if (isPermanentFailure(error)) {
        await giveUp(deps, org, error).catch(() => {});
        report.abandoned++;
        continue;
      }
      report.failed++;
      console.error(JSON.stringify({ msg: "reconcile failed", org_id: org._id.toHexString(), status: org.status, error: String(error) }));
    }
  }
  try {
    Object.assign(report, await reconcileMemberships(deps, olderThan));
  } catch (error) {
    report.failed++;
    console.error(JSON.stringify({ msg: "reconcile memberships failed", error: String(error) }));
  }
  try {
    // Last: the steps above record events of their own as they finish.
    report.relayed = await relayLeftovers(deps, olderThan);
    // Every outbox waiting now, not only those a publisher left: failed logins are published here (auth.ts).
    report.events = await publishLeftovers(deps, new Date(Math.max(olderThan.getTime(), deps.now().getTime())));
  } catch (error) {
    report.failed++;
    console.error(JSON.stringify({ msg: "reconcile events failed", error: String(error) }));
  }
  return report;
};

const settle = async (deps: Deps, org: OrganizationDoc): Promise<"finished" | "rolledBack"> => {
  const pending = org.pending;
  if (org.status === "creating") {
    // The record is complete, admin included: finishing is always possible and loses nothing.
    await finishCreate(deps, org);
    return "finished";
  }
  if (org.status === "deleting") {
    await finishDelete(deps, org);
    return "finished";
  }
  if (org.status !== "renaming" || pending?.op !== "rename") throw new Error(`cannot settle status ${org.status}`);
  if ((await moveTenantCollection(deps, org, pending.from_collection, pending.to_collection)) === "target-exists") {
    // The target existed before the move and the source still holds the data: undo the rename.
    await undoRename(deps, org._id, pending.from_name, pending.from_slug);
    return "rolledBack";
  }
  // A rename marked before events existed has none prepared: the service records it as its own.
  const renamed = pending.event ?? renamedEvent({ type: "system" }, pending.from_name, org.organization_name, pending.to_collection, deps.now());
  await finishRename(deps, org._id, pending.to_collection, renamed);
  return "finished";
};

const ACTION_OF: Record<string, AuditAction> = { creating: "org.create", renaming: "org.update", deleting: "org.delete" };

const giveUp = async (deps: Deps, org: OrganizationDoc, error: DataError): Promise<void> => {
  const pending = org.pending;
  if (org.status === "creating") await abandonCreate(deps, org);
  else if (org.status === "renaming" && pending?.op === "rename") await undoRename(deps, org._id, pending.from_name, pending.from_slug);
  else await markFailed(deps, org, error);
  console.error(JSON.stringify({ msg: "reconcile gave up", org_id: org._id.toHexString(), status: org.status, error_code: error.code, error: error.message }));
  const event: AuditEvent = {
    at: deps.now(),
    action: ACTION_OF[org.status] ?? "org.update",
    outcome: "abandoned",
    status: 422,
    request_id: "reconciler",
    client_ip: null,
    org_id: org._id.toHexString(),
    organization_name: org.organization_name,
  };
  await deps.data.collection(AUDIT_LOG).insertOne(event as AuditEvent & Record<string, unknown>);
};

import { AUDIT_LOG, type AuditAction, type AuditEvent } from "../audit/audit";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import type { OrganizationDoc } from "../kernel/model";
import { isPermanentFailure, type Operation, RECONCILE_BATCH, runSteps } from "../kernel/operation";
import { OPERATIONS, type Registered } from "../operations";

export interface ReconcileReport {
  /** Creates, renames and deletes found half-done. */
  examined: number;
  finished: number;
  rolledBack: number;
  /** Operations a store refused for good: undone where possible, else flagged failed; never retried. */
  abandoned: number;
  failed: number;
  /** Accepted invitations whose later steps a crash interrupted, finished (or undone when the organization went). */
  accepts: number;
  /** Removals whose account step a crash interrupted, finished. */
  departures: number;
  /** Accounts that listed an organization they never joined (a create or accept that died), pruned. */
  accounts: number;
  /** Events carried on an invitation, an endpoint or an account that their request did not relay, relayed. */
  relayed: number;
  /** Organizations whose events waited in the outbox (failed logins, or their publisher died), published. */
  events: number;
}

/**
 * The one reconciler: asks every registered operation (src/domain/operations.ts) for the markers
 * a crash, a timeout or a lost answer left, older than `olderThan`, and runs the same steps the
 * requests run. It may overlap live requests (it only takes markers older than any request can
 * be) and other runs: whoever comes second finds the step done, or its guard unmatched, and moves
 * on. A step the store refuses for good is given up: the operation undone where it can be, else
 * flagged for an operator; a step that throws a caller's error (AppError) ended the operation by
 * its own rules, and counts as settled.
 */
export const reconcile = async (deps: Deps, olderThan: Date): Promise<ReconcileReport> => {
  const report: ReconcileReport = {
    examined: 0,
    finished: 0,
    rolledBack: 0,
    abandoned: 0,
    failed: 0,
    accepts: 0,
    departures: 0,
    accounts: 0,
    relayed: 0,
    events: 0,
  };
  for (const entry of OPERATIONS) {
    let markers: unknown[];
    try {
      markers = await entry.operation.abandoned(deps, olderThan, RECONCILE_BATCH);
    } catch (error) {
      report.failed++;
      console.error(JSON.stringify({ msg: "reconcile failed", kind: entry.operation.kind, error: String(error) }));
      continue;
    }
    for (const marker of markers) await settle(deps, entry, marker, report);
  }
  return report;
};

const settle = async (deps: Deps, { operation, counter }: Registered, marker: unknown, report: ReconcileReport): Promise<void> => {
  if (counter === "lifecycle") report.examined++;
  try {
    const outcome = await runSteps(operation, deps, marker);
    if (counter === "lifecycle") report[outcome === "undone" ? "rolledBack" : "finished"]++;
    else report[counter]++;
  } catch (error) {
    if (error instanceof AppError) {
      if (counter !== "lifecycle") report[counter]++;
      return;
    }
    if (isPermanentFailure(error)) {
      await giveUp(deps, operation, marker, error).catch(() => {});
      report.abandoned++;
      return;
    }
    report.failed++;
    console.error(JSON.stringify({ msg: "reconcile failed", kind: operation.kind, error: String(error) }));
  }
};

const ACTION_OF: Record<string, AuditAction> = {
  "organization.create": "org.create",
  "organization.rename": "org.update",
  "organization.delete": "org.delete",
};

/** Undoes, or flags, an operation the store refused for good, and says so in the log and, for an organization's, the audit trail. */
const giveUp = async (
  deps: Deps,
  operation: Operation<unknown>,
  marker: unknown,
  error: Parameters<NonNullable<Operation<unknown>["undo"]>>[2],
): Promise<void> => {
  if (operation.undo) await operation.undo(deps, marker, error);
  else await operation.flagFailed?.(deps, marker, error);
  console.error(JSON.stringify({ msg: "reconcile gave up", kind: operation.kind, error_code: error.code, error: error.message }));
  const action = ACTION_OF[operation.kind];
  if (!action) return;
  const org = marker as OrganizationDoc;
  const event: AuditEvent = {
    at: deps.now(),
    action,
    outcome: "abandoned",
    status: 422,
    request_id: "reconciler",
    client_ip: null,
    org_id: org._id.toHexString(),
    organization_name: org.organization_name,
  };
  await deps.data.collection(AUDIT_LOG).insertOne(event as AuditEvent & Record<string, unknown>);
};

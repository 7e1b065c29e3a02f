import { connectData } from "../data/connect";
import type { Doc } from "../dataapi/engine";
import { AUDIT_LOG, type AuditEvent, outcomeOf } from "../domain/audit";
import type { Env } from "../env";
import { type AppRequest, keepAlive, settingsFor } from "./context";

/**
 * Writes the request's audit note, if it has one, after the answer is sent (waitUntil), on a
 * client of its own: an audit write never delays a response, and a failed one is logged.
 */
export const recordAudit = (response: Response, request: AppRequest, env: Env): void => {
  const note = request.state?.audit;
  if (!note) return;
  const status = response.status;
  const event: AuditEvent = {
    at: new Date(),
    action: note.action,
    outcome: note.outcome ?? outcomeOf(status),
    status,
    request_id: request.state.requestId,
    client_ip: request.headers.get("cf-connecting-ip"),
    ...(note.orgId || request.state.orgId ? { org_id: note.orgId ?? request.state.orgId } : {}),
    ...(note.organizationName ? { organization_name: note.organizationName } : {}),
    ...(note.email ? { email: note.email.toLowerCase() } : {}),
  };
  keepAlive(
    request.state.ctx,
    connectData(env, settingsFor(env))
      .collection<AuditEvent & Doc>(AUDIT_LOG)
      .insertOne(event as AuditEvent & Doc),
  );
};

import { writeAudit } from "../deps";
import { type AuditEvent, outcomeOf } from "../domain/audit/audit";
import type { Env } from "../env";
import type { AppRequest } from "./context";

/** Turns the request's audit note, if it has one, into an event for the audit trail (written after the answer). */
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
    ...(request.state.operatorKeyId ? { key_id: request.state.operatorKeyId } : {}),
    ...(request.state.apiKeyId ? { api_key_id: request.state.apiKeyId } : {}),
    ...(note.reason ? { reason: note.reason } : {}),
  };
  writeAudit(env, request.state.ctx, event);
};

import type { IndexSpec } from "../../dataapi/engine";

/** The master database's audit trail; documents expire through a TTL index on `at`. */
export const AUDIT_LOG = "audit_log";

export type AuditAction =
  | "org.create"
  | "org.update"
  | "org.delete"
  | "admin.login"
  | "admin.logout"
  | "admin.password"
  | "account.password_reset"
  | "account.password_reset_confirm"
  | "account.verify_email"
  | "account.verify_email_confirm"
  | "platform.inspect"
  | "platform.suspend"
  | "platform.reactivate"
  | "platform.delete"
  | "admin.switch"
  | "member.update"
  | "member.remove"
  | "member.leave"
  | "invitation.create"
  | "invitation.revoke"
  | "invitation.accept"
  | "api_key.create"
  | "api_key.revoke"
  | "api_key.roll"
  | "role.create"
  | "role.update"
  | "role.delete"
  | "team.create"
  | "team.update"
  | "team.delete"
  | "team.member_add"
  | "team.member_remove"
  | "platform.api_key.revoke"
  | "platform.role_templates"
  | "domain.claim"
  | "domain.verify"
  | "domain.delete"
  | "domain.policy"
  | "domain.invitation_domains"
  | "account.signup"
  | "account.join"
  | "member.join_approve"
  | "member.join_decline";
export type AuditOutcome = "success" | "failure" | "locked" | "rate_limited" | "abandoned";

/** One audited event. Never a password, a hash or a token. */
export interface AuditEvent {
  at: Date;
  action: AuditAction;
  outcome: AuditOutcome;
  status: number;
  request_id: string;
  client_ip: string | null;
  org_id?: string;
  organization_name?: string;
  /** The e-mail a login or create named (the actor, or who was targeted). */
  email?: string;
  /** For the platform operator's actions: the id of the key used, never the key. */
  key_id?: string;
  /** When the organization's API key acted: its id, never its secret. */
  api_key_id?: string;
  /** Why an operator suspended an organization. */
  reason?: string;
}

export const auditIndexes = (retentionDays: number): IndexSpec[] => [
  { key: { at: 1 }, name: "at_ttl", expireAfterSeconds: retentionDays * 86_400 },
  { key: { org_id: 1 }, name: "org_id" },
];

export const outcomeOf = (status: number): AuditOutcome => {
  if (status < 400) return "success";
  if (status === 429) return "locked";
  return "failure";
};

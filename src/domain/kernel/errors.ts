/**
 * Every failure the service reports, with its HTTP status and the message clients see. Code
 * and tests import this one registry; nothing branches on message text.
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 422, message: "Request validation failed" },
  ORGANIZATION_EXISTS: { status: 409, message: "Organization already exists" },
  ADMIN_EMAIL_EXISTS: { status: 409, message: "Admin email already registered" },
  ORGANIZATION_BUSY: { status: 409, message: "Another operation on this organization is in progress; retry shortly" },
  COLLECTION_EXISTS: { status: 409, message: "The tenant collection for the new name already exists" },
  NAME_REFUSED_BY_STORE: { status: 422, message: "The data store does not accept a collection for this organization name" },
  ORGANIZATION_NOT_FOUND: { status: 404, message: "Organization not found" },
  INVALID_CREDENTIALS: { status: 401, message: "Invalid email or password" },
  NOT_AUTHENTICATED: { status: 401, message: "Not authenticated" },
  INVALID_TOKEN: { status: 401, message: "Invalid or expired token" },
  FORBIDDEN: { status: 403, message: "Not allowed to manage this organization" },
  ADMIN_EMAIL_MISMATCH: { status: 403, message: "x-admin-email does not match the authenticated admin" },
  NOT_FOUND: { status: 404, message: "Not Found" },
  METHOD_NOT_ALLOWED: { status: 405, message: "Method Not Allowed" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "Request body too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Content-Type must be application/json" },
  ACCOUNT_LOCKED: { status: 429, message: "Too many failed logins; try again later" },
  RATE_LIMITED: { status: 429, message: "Too many requests; try again later" },
  STORE_UNAVAILABLE: { status: 503, message: "Data store unavailable; retry shortly" },
  MISCONFIGURED: { status: 500, message: "Internal Server Error" },
  INTERNAL: { status: 500, message: "Internal Server Error" },
  RECORD_NOT_FOUND: { status: 404, message: "Record not found" },
  ORGANIZATION_SUSPENDED: { status: 403, message: "This organization is suspended; contact the service's operator" },
  /** The platform API without a valid operator key: the same answer as a path that does not exist. */
  PLATFORM_KEY_REQUIRED: { status: 404, message: "Not Found" },
  PLATFORM_READ_ONLY: { status: 403, message: "This API key may only read" },
  ORGANIZATION_REQUIRED: { status: 409, message: "This account belongs to several organizations: name one in organization_name" },
  PERMISSION_DENIED: { status: 403, message: "Your role in this organization does not allow this" },
  MEMBER_NOT_FOUND: { status: 404, message: "Member not found" },
  LAST_OWNER: { status: 409, message: "An organization must keep at least one owner" },
  ALREADY_MEMBER: { status: 409, message: "This person is already a member of the organization" },
  INVITATION_EXISTS: { status: 409, message: "A pending invitation for this e-mail already exists" },
  INVITATION_LIMIT: { status: 409, message: "This organization has as many pending invitations as it may" },
  INVITATION_NOT_FOUND: { status: 404, message: "Invitation not found" },
  INVITATION_INVALID: { status: 410, message: "This invitation is invalid, expired, revoked or already used" },
  NEW_ACCOUNT_PASSWORD: { status: 422, message: "A new account needs a password of 8 to 256 characters" },
  EVENT_CURSOR_INVALID: { status: 422, message: "Invalid cursor: pass the next_cursor or an event's cursor from this organization's feed unchanged" },
  WEBHOOK_URL_REFUSED: {
    status: 422,
    message: "Webhook URL refused: https only (plain http to loopback only where the deployment allows it), to a public host, without credentials or fragment",
  },
  WEBHOOK_LIMIT: { status: 409, message: "This organization has as many webhook endpoints as it may (10)" },
  WEBHOOK_NOT_FOUND: { status: 404, message: "Webhook endpoint not found" },
  API_KEY_LIMIT: { status: 409, message: "This organization has as many API keys as it may (20)" },
  API_KEY_NOT_FOUND: { status: 404, message: "API key not found" },
  DELIVERY_NOT_FOUND: { status: 404, message: "Delivery not found" },
  WEBHOOK_DISABLED: { status: 409, message: "This webhook endpoint is disabled" },
  ACCOUNT_EXISTS: { status: 409, message: "An account with this e-mail exists: sign in with its password or bearer token to accept" },
  LINK_INVALID: { status: 410, message: "This link is invalid, expired, replaced by a later one or already used" },
  ROLE_NOT_FOUND: { status: 404, message: "Role not found" },
  ROLE_EXISTS: { status: 409, message: "A role with this name exists in this organization (owner, admin and member are built in)" },
  ROLE_IN_USE: { status: 409, message: "Members hold this role: name a role to give them instead (replace_with) to delete it" },
  ROLE_LIMIT: { status: 409, message: "This organization has as many custom roles as it may (50)" },
  ROLE_UNKNOWN: { status: 422, message: "A role named in the request does not exist in this organization" },
  TEAM_NOT_FOUND: { status: 404, message: "Team not found" },
  TEAM_EXISTS: { status: 409, message: "A team with this name exists in this organization" },
  TEAM_LIMIT: { status: 409, message: "This organization has as many teams as it may (100)" },
  DOMAIN_NOT_FOUND: { status: 404, message: "Domain not found" },
  DOMAIN_EXISTS: { status: 409, message: "This organization has already claimed this domain" },
  DOMAIN_TAKEN: { status: 409, message: "This domain is verified by another organization" },
  DOMAIN_LIMIT: { status: 409, message: "This organization has as many domains as it may (20)" },
  DOMAIN_PUBLIC: { status: 422, message: "A public mail domain cannot be claimed" },
  EMAIL_TAKEN: { status: 409, message: "An account with this e-mail exists: sign in with it instead" },
  INVITATION_DOMAIN: { status: 422, message: "This organization invites only addresses at its allowed domains (GET /org/invitation-domains)" },
  SUGGESTION_NOT_FOUND: { status: 404, message: "No verified domain of this organization lets this address join or ask to" },
  EMAIL_NOT_VERIFIED: { status: 403, message: "Verify the account's address first (POST /auth/verify-email/request)" },
  JOIN_REQUEST_NOT_FOUND: { status: 404, message: "Join request not found" },
  JOIN_REQUESTS_FULL: { status: 409, message: "This organization has as many open join requests as it holds (100): ask again later" },
  MAIL_DISABLED: { status: 409, message: "This service sends no mail (MAIL_TRANSPORT=none); ask its operator" },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** A failure with a stable code; the HTTP layer renders it as FastAPI's `{"detail": …}`. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    /** Seconds after which a retry may succeed (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERRORS[code].status;
  }
}

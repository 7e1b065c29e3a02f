import { isRole, isRoleName, type Permission, can as roleCan } from "../../src/domain/kernel/roles";

/**
 * Who is signed in: the bearer token and what its claims say (the account, and the organization
 * and the role when it names one), plus the e-mail typed at sign-in. Kept in `sessionStorage`: it
 * survives a reload of the tab (a console that forgets its user on every reload is not usable) and
 * goes when the tab closes; it is never shared with other tabs, never sent by the browser on its
 * own (no cookie, so no cross-site request can use it) and never put in a URL. The page's policy
 * admits only this origin's scripts, the only code that could read it. The operator key is more
 * powerful and stays in memory alone (see platform.ts).
 */
export interface AccountSession {
  token: string;
  email: string;
  userId: string;
  expiresAt: number;
}

/**
 * A member's session: the account signed in to one of its organizations. A session without one (an
 * account token, scope "account": an account opened by sign-up that belongs to no organization
 * yet) opens only the organizations it may join (pages/welcome.tsx); member pages never see it.
 */
export interface Session extends AccountSession {
  orgId: string;
  orgName: string;
  /** The first role: built-in, or one of the organization's own. */
  role: string;
  /** Whether the member also holds roles of the organization's own, whose permissions the token does not carry. */
  customRoles: boolean;
  emailVerified: boolean;
}

const KEY = "oms.console.session";

const decodeClaims = (token: string): Record<string, unknown> | null => {
  const [, payload] = token.split(".");
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    return null;
  }
};

/** The session a token opens; the service checks the token on every call, the console only reads it to know what to show. */
export const sessionFrom = (token: string, email: string): Session | AccountSession | null => {
  const claims = decodeClaims(token);
  if (!claims) return null;
  const { admin_id, org_id, org_name, exp } = claims;
  if (claims.scope === "account")
    return typeof admin_id === "string" && org_id === undefined && typeof exp === "number" ? { token, email, userId: admin_id, expiresAt: exp * 1000 } : null;
  const role = claims.role ?? "owner";
  if (
    typeof admin_id !== "string" ||
    typeof org_id !== "string" ||
    typeof org_name !== "string" ||
    typeof exp !== "number" ||
    !(isRole(role) || isRoleName(role))
  )
    return null;
  const customRoles = Array.isArray(claims.roles) && claims.roles.some((each) => !isRole(each));
  return {
    token,
    email,
    userId: admin_id,
    orgId: org_id,
    orgName: org_name,
    role,
    customRoles,
    emailVerified: claims.email_verified === true,
    expiresAt: exp * 1000,
  };
};

const isMember = (signed: AccountSession | null): signed is Session => signed !== null && "orgId" in signed;

let current: Session | AccountSession | null = null;
/** Why the last session ended, when the console ended it (shown on the sign-in page). */
let endedBecause: string | null = null;
const listeners = new Set<() => void>();

const load = (): Session | AccountSession | null => {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as { token?: string; email?: string } | null;
    const session = stored?.token ? sessionFrom(stored.token, stored.email ?? "") : null;
    return session && session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
};
current = load();

const changed = () => {
  for (const listener of listeners) listener();
};

/** The member's session; null without one, and for an account signed in to no organization. */
export const session = (): Session | null => (isMember(current) ? current : null);

/** Whoever is signed in, member or not: the token every call carries. */
export const signedIn = (): Session | AccountSession | null => current;

export const signedOutReason = (): string | null => endedBecause;

export const subscribe = (listener: () => void): (() => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/** Starts a session with a token the service just answered: a member's, or an account's without organization. */
export const signIn = (token: string, email: string): Session | AccountSession => {
  const next = sessionFrom(token, email);
  if (!next) throw new Error("The service answered a token the console cannot read.");
  current = next;
  endedBecause = null;
  sessionStorage.setItem(KEY, JSON.stringify({ token, email }));
  changed();
  return next;
};

export const signOut = (reason: string | null = null): void => {
  current = null;
  endedBecause = reason;
  sessionStorage.removeItem(KEY);
  changed();
};

/**
 * What the signed-in member's role allows: what the console shows. The service still checks every
 * call; a custom role's permissions live in the organization, so with one the console offers every
 * view and lets the service answer.
 */
export const can = (permission: Permission): boolean => (isMember(current) ? roleCan(current.role, permission) || current.customRoles : false);

import type { FunctionComponent } from "preact";
import type { Permission } from "../../../src/domain/kernel/roles";
import { Accept } from "./accept";
import { Account } from "./account";
import { Create } from "./create";
import { Domains } from "./domains";
import { Events } from "./events";
import { Invitations } from "./invitations";
import { Members } from "./members";
import { Overview } from "./overview";
import { Platform } from "./platform";
import { Records } from "./records";
import { ForgotPassword, ResetPassword, VerifyEmail } from "./recover";
import { Roles } from "./roles";
import { Settings } from "./settings";
import { SignIn } from "./sign-in";
import { SignUp } from "./sign-up";
import { Teams } from "./teams";
import { Webhooks } from "./webhooks";
import { Welcome } from "./welcome";

/**
 * Every view of the console, in one list: the shell routes by it, builds the navigation from it
 * (a member sees only what their role may do), and the browser tests visit it.
 *
 * - `guest`: shown to anyone (signing in, creating an organization, the mailed links);
 * - `member`: needs a session, and the permission when one is named;
 * - `account`: needs a session, of an account in no organization or a member's (the organizations
 *   the address may join);
 * - `operator`: the platform's pages, behind an operator key (platform.tsx).
 */
export interface ConsolePage {
  path: string;
  title: string;
  audience: "guest" | "member" | "account" | "operator";
  /** What the member's role must allow for the page to be listed and opened. */
  permission?: Permission;
  /** Listed in the member navigation. */
  nav?: boolean;
  view: FunctionComponent;
}

export const PAGES: readonly ConsolePage[] = [
  { path: "/console", title: "Overview", audience: "member", nav: true, view: Overview },
  { path: "/console/members", title: "Members", audience: "member", permission: "member:read", nav: true, view: Members },
  { path: "/console/roles", title: "Roles", audience: "member", permission: "member:read", nav: true, view: Roles },
  { path: "/console/teams", title: "Teams", audience: "member", permission: "member:read", nav: true, view: Teams },
  { path: "/console/invitations", title: "Invitations", audience: "member", permission: "member:invite", nav: true, view: Invitations },
  { path: "/console/domains", title: "Domains", audience: "member", permission: "domain:manage", nav: true, view: Domains },
  { path: "/console/records", title: "Records", audience: "member", permission: "records:read", nav: true, view: Records },
  { path: "/console/events", title: "Events", audience: "member", permission: "audit:read", nav: true, view: Events },
  { path: "/console/webhooks", title: "Webhooks", audience: "member", permission: "webhook:manage", nav: true, view: Webhooks },
  { path: "/console/settings", title: "Settings", audience: "member", permission: "organization:update", nav: true, view: Settings },
  { path: "/console/account", title: "Your account", audience: "member", view: Account },
  { path: "/console/welcome", title: "Join your organization", audience: "account", view: Welcome },
  { path: "/console/sign-in", title: "Sign in", audience: "guest", view: SignIn },
  { path: "/console/sign-up", title: "Sign up", audience: "guest", view: SignUp },
  { path: "/console/create", title: "Create an organization", audience: "guest", view: Create },
  { path: "/console/accept", title: "Accept an invitation", audience: "guest", view: Accept },
  { path: "/console/forgot-password", title: "Forgot your password", audience: "guest", view: ForgotPassword },
  { path: "/console/reset-password", title: "Choose a new password", audience: "guest", view: ResetPassword },
  { path: "/console/verify-email", title: "Verify your address", audience: "guest", view: VerifyEmail },
  { path: "/console/platform", title: "Platform", audience: "operator", view: Platform },
];

export const pageAt = (path: string): ConsolePage | undefined => PAGES.find((page) => page.path === path);

import { claimDomain, deleteDomain, listDomains, verifyDomain } from "../../domain/domains/domains";
import { setDomainPolicy, setInvitationDomains } from "../../domain/domains/policies";
import { readOrganization } from "../../domain/kernel/guard";
import { DomainBody, DomainList, DomainPath, DomainPolicyBody, DomainView, InvitationDomains, InvitationDomainsBody } from "../domain-schemas";
import { BODY_ERRORS, defineRoute, idOr404, type Route, TOKEN_ERRORS } from "../route";
import { detailAnswer } from "../schemas";

const listDomainsRoute = defineRoute({
  method: "get",
  path: "/org/domains",
  permission: "domain:manage",
  tag: "domains",
  summary: __DOCS__ && "The organization's domains, each with the record that verifies it and its status",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The domains", schema: DomainList } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, caller }) => ({ body: await listDomains(deps, caller) }),
});

const claimDomainRoute = defineRoute({
  method: "post",
  path: "/org/domains",
  permission: "domain:manage",
  tag: "domains",
  summary: __DOCS__ && "Claim an e-mail domain; answers the TXT record to publish",
  description:
    __DOCS__ &&
    "Publish the answered record (`_org-verification.<domain>`, a random value), then ask for it to be verified. At most 20 per organization. A public mail domain (gmail.com, outlook.com, …) is refused, and so is one another organization has verified.",
  auth: "required",
  audit: "domain.claim",
  request: { body: { schema: DomainBody } },
  responses: { 201: { description: __DOCS__ && "Claimed, pending", schema: DomainView } },
  errors: [...TOKEN_ERRORS, "DOMAIN_PUBLIC", "DOMAIN_EXISTS", "DOMAIN_TAKEN", "DOMAIN_LIMIT", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, caller, input }) => ({ status: 201, body: await claimDomain(deps, caller, (await input.body()).domain) }),
});

const verifyDomainRoute = defineRoute({
  method: "post",
  path: "/org/domains/{id}/verify",
  permission: "domain:manage",
  tag: "domains",
  summary: __DOCS__ && "Look the domain's record up now, over DNS over HTTPS",
  description:
    __DOCS__ &&
    "Answers the domain as the lookup left it: `verified` when the record holds its value; otherwise as it was, with `last_error` saying why (no record, another value, a resolver that failed (`DNS_RESOLVER_URL`), another organization that verified it first).",
  auth: "required",
  audit: "domain.verify",
  request: { path: DomainPath },
  responses: { 200: { description: __DOCS__ && "Looked up", schema: DomainView } },
  errors: [...TOKEN_ERRORS, "DOMAIN_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, caller, input }) => ({ body: await verifyDomain(deps, caller, idOr404(input.params().id, "DOMAIN_NOT_FOUND")) }),
});

const deleteDomainRoute = defineRoute({
  method: "delete",
  path: "/org/domains/{id}",
  permission: "domain:manage",
  tag: "domains",
  summary: __DOCS__ && "Release a domain: another organization may verify it from then on",
  auth: "required",
  audit: "domain.delete",
  request: { path: DomainPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Deleted", detail: "deleted" }),
  },
  errors: [...TOKEN_ERRORS, "DOMAIN_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, caller, input }) => {
    await deleteDomain(deps, caller, idOr404(input.params().id, "DOMAIN_NOT_FOUND"));
    return { body: { detail: "deleted" } };
  },
});

const domainPolicyRoute = defineRoute({
  method: "patch",
  path: "/org/domains/{id}",
  permission: "domain:manage",
  tag: "domains",
  summary: __DOCS__ && "Set what people at the domain may do: join at once, ask to join, or neither",
  description:
    __DOCS__ &&
    "`auto_join`: a person whose address is verified at the domain joins at once as `role` (at sign-up once they verify it, or from `POST /auth/suggestions/{org_id}/join`); `suggest`: they may ask, and an owner or admin approves (`/org/join-requests`). A policy applies while the domain is verified: a lapsed or released domain lets nobody in.",
  auth: "required",
  audit: "domain.policy",
  request: { path: DomainPath, body: { schema: DomainPolicyBody } },
  responses: { 200: { description: __DOCS__ && "Set", schema: DomainView } },
  errors: [...TOKEN_ERRORS, "PERMISSION_DENIED", "DOMAIN_NOT_FOUND", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, caller, input }) => {
    const id = idOr404(input.params().id, "DOMAIN_NOT_FOUND");
    return { body: await setDomainPolicy(deps, caller, id, await input.body()) };
  },
});

const getInvitationDomainsRoute = defineRoute({
  method: "get",
  path: "/org/invitation-domains",
  permission: "member:invite",
  tag: "domains",
  summary: __DOCS__ && "The domains invitations may go to (empty: any)",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The list", schema: InvitationDomains } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, caller }) => ({ body: { domains: (await readOrganization(deps, caller, { invitation_domains: 1 })).invitation_domains ?? [] } }),
});

const setInvitationDomainsRoute = defineRoute({
  method: "put",
  path: "/org/invitation-domains",
  permission: "domain:manage",
  tag: "domains",
  summary: __DOCS__ && "Invite only addresses at these domains; an empty list lets invitations go anywhere",
  description: __DOCS__ && "An invitation to another domain is refused with a 422 from then on; invitations already pending stay.",
  auth: "required",
  audit: "domain.invitation_domains",
  request: { body: { schema: InvitationDomainsBody } },
  responses: { 200: { description: __DOCS__ && "Set", schema: InvitationDomains } },
  errors: [...TOKEN_ERRORS, "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, caller, input }) => ({ body: await setInvitationDomains(deps, caller, (await input.body()).domains) }),
});

export const domainRoutes: Route[] = [
  listDomainsRoute,
  claimDomainRoute,
  verifyDomainRoute,
  domainPolicyRoute,
  deleteDomainRoute,
  getInvitationDomainsRoute,
  setInvitationDomainsRoute,
];

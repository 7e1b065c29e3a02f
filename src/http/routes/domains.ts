import { claimDomain, deleteDomain, listDomains, verifyDomain } from "../../domain/domains/domains";
import { DomainBody, DomainList, DomainPath, DomainView } from "../domain-schemas";
import { BODY_ERRORS, defineRoute, idOr404, type Route, TOKEN_ERRORS } from "../route";
import { Detail } from "../schemas";

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
    200: { description: __DOCS__ && "Deleted", schema: Detail, examples: { deleted: { summary: __DOCS__ && "Deleted", value: { detail: "deleted" } } } },
  },
  errors: [...TOKEN_ERRORS, "DOMAIN_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, caller, input }) => {
    await deleteDomain(deps, caller, idOr404(input.params().id, "DOMAIN_NOT_FOUND"));
    return { body: { detail: "deleted" } };
  },
});

export const domainRoutes: Route[] = [listDomainsRoute, claimDomainRoute, verifyDomainRoute, deleteDomainRoute];

import * as z from "../zod";

/**
 * Verified domains: request and response schemas, built on their first use (a domain route's
 * first request, or the OpenAPI document), not at every isolate's start (`z.lazy`).
 */
const exampleId = "6650f1c2e8b3e4a0123456dd";
const exampleTime = "2026-01-01T00:00:00.000Z";

/** A domain name as DNS writes it: lower-case labels of letters, digits and inner hyphens, at least two, 253 characters at most. */
const DOMAIN_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const domainName = () =>
  z.string().check(
    z.trim(),
    z.toLowerCase(),
    z.overwrite((text) => text.replace(/\.$/, "")),
    z.regex(DOMAIN_PATTERN, "a domain name such as acme.com (letters, digits and hyphens; Unicode names in their xn-- form)"),
  );

export const DomainBody = z.lazy(() =>
  z
    .strictObject({
      domain: domainName().register(z.globalRegistry, __DOCS__ && { description: "The e-mail domain to claim; compared lower-case, without a final dot" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { domain: "acme.com" } }),
);

export const DomainPath = z.lazy(() =>
  z.object({ id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The domain's `id`", example: exampleId }) }),
);

const domainView = () =>
  z
    .object({
      id: z.string(),
      domain: z.string(),
      status: z
        .enum(["pending", "verified", "lapsed"])
        .register(z.globalRegistry, __DOCS__ && { description: "`lapsed`: was verified, and its record was gone when looked up again" }),
      record: z
        .object({ type: z.literal("TXT"), name: z.string(), value: z.string() })
        .register(z.globalRegistry, __DOCS__ && { description: "The TXT record to publish, then `POST /org/domains/{id}/verify`" }),
      verified_at: z.nullable(z.iso.datetime()),
      checked_at: z.nullable(z.iso.datetime()).register(z.globalRegistry, __DOCS__ && { description: "The last lookup, whatever it found" }),
      last_error: z
        .nullable(z.string())
        .register(z.globalRegistry, __DOCS__ && { description: "Why the last lookup did not verify it (no record, another value, a resolver that failed)" }),
      created_at: z.iso.datetime(),
      policy: z
        .nullable(z.enum(["auto_join", "suggest"]))
        .register(z.globalRegistry, __DOCS__ && { description: "What people at the domain may do while it is verified (`PATCH /org/domains/{id}`)" }),
      role: z.nullable(z.enum(["member", "admin"])).register(z.globalRegistry, __DOCS__ && { description: "The role an `auto_join` gives" }),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          id: exampleId,
          domain: "acme.com",
          status: "pending",
          record: { type: "TXT", name: "_org-verification.acme.com", value: "org-verification=Jx0k…" },
          verified_at: null,
          checked_at: null,
          last_error: null,
          created_at: exampleTime,
          policy: null,
          role: null,
        },
      },
    );

export const DomainView = z.lazy(domainView);

export const DomainList = z.lazy(() => z.object({ domains: z.array(domainView()) }));

export const DomainPolicyBody = z.lazy(() =>
  z
    .strictObject({
      policy: z.enum(["auto_join", "suggest", "none"]).register(
        z.globalRegistry,
        __DOCS__ && {
          description:
            "`auto_join`: a person whose address is verified at the domain joins at once, as `role`; `suggest`: they may ask to join, and an owner or admin approves; `none`: neither. Applies while the domain is verified.",
        },
      ),
      role: z
        .optional(z.enum(["member", "admin"]))
        .register(z.globalRegistry, __DOCS__ && { description: "The role an `auto_join` gives (default `member`); `admin` only by an owner or admin" }),
    })
    .check(z.refine((body) => body.policy === "auto_join" || body.role === undefined, { message: "role goes only with auto_join", path: ["role"] }))
    .register(z.globalRegistry, __DOCS__ && { example: { policy: "auto_join", role: "member" } }),
);

export const InvitationDomainsBody = z.lazy(() =>
  z
    .strictObject({
      domains: z
        .array(domainName())
        .check(z.maxLength(20))
        .register(z.globalRegistry, __DOCS__ && { description: "The domains invitations may go to (at most 20); empty: any" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { domains: ["acme.com"] } }),
);

export const InvitationDomains = z.lazy(() => z.object({ domains: z.array(z.string()) }));

import type { JWK } from "jose";
import { parseWording, type WordingOverrides } from "../domain/mail/wording";
import { WORKERS_PBKDF2_MAX_ITERATIONS } from "../workers-limits";
import * as z from "../zod";

/**
 * How tokens are signed. Spelled out here rather than imported: the domain declares the slices it
 * needs (`DomainSettings`), and src/deps.ts, where the two meet, checks that these satisfy them.
 */
/** Webhook deliveries: plain http to loopback (local development only), the attempt's timeout, and the retry schedule divided (a shorter schedule for development and tests). */
export interface WebhookSettings {
  allowHttpLoopback: boolean;
  timeoutMs: number;
  scheduleDivisor: number;
}

export interface TokenConfig {
  algorithm: "HS256" | "HS384" | "HS512" | "ES256" | "EdDSA";
  secret?: string;
  previousSecret?: string;
  privateJwk?: JWK;
  previousPublicJwk?: JWK;
  ttlSeconds: number;
  issuer: string;
  audience: string;
}

/** The SMTP server the Worker sends mail through, over `cloudflare:sockets` (src/mail/transport.ts). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** `tls`: TLS from the first byte (port 465); `starttls`: upgraded when the server offers it; `off`: plain (loopback, tests). */
  security: "tls" | "starttls" | "off";
  user?: string;
  password?: string;
  timeoutMs: number;
}

/** How mailed messages read (the sender, the product's name, the base of their links, e.g. https://app.example.com), and whether any leave (not with MAIL_TRANSPORT=none: then none is queued). */
export interface MailSettings {
  from: { email: string; name?: string };
  productName: string;
  linkBaseUrl: string;
  sends: boolean;
  /** The operator's wording of any message (MAIL_TEMPLATES), over the defaults of domain/mail/wording.ts. */
  wording?: WordingOverrides;
}

/**
 * Outgoing mail: how it leaves and how it reads. `smtp`: to a mail server over TCP; `send_email`:
 * through Cloudflare's Email Service binding named SEND_EMAIL; `none`: it does not leave (the
 * application mails from the events).
 */
export type MailConfig = MailSettings & { transport: { kind: "none" } | { kind: "send_email" } | { kind: "smtp"; smtp: SmtpSettings } };

/** One operator key of the platform API (`PLATFORM_API_KEYS`). */
export interface PlatformKey {
  /** Named in the audit trail; the secret never is. */
  id: string;
  scope: "read" | "write";
  secret: string;
}

/** The Worker's settings, read once per isolate from its bindings. */
export interface Settings {
  token: TokenConfig;
  pbkdf2Iterations: number;
  data: {
    url?: string;
    apiKey?: string;
    dataSource: string;
    database: string;
    timeoutMs: number;
    /** Where the embedded store's Durable Object is created (honoured only when it is first created). */
    locationHint?: LocationHint;
  };
  maxBodyBytes: number;
  /** Operations older than this are settled by the reconciler. */
  reconcileAfterSeconds: number;
  /** Consecutive failed logins after which an account is locked for a while. */
  lockoutThreshold: number;
  /** A refused password check answers on a multiple of this since it began (0: at once); see auth.ts. */
  failureBeatMs: number;
  auditRetentionDays: number;
  /** How long an invitation's token can be accepted. */
  invitationTtlSeconds: number;
  /** Pending invitations an organization may have at once (held by slots, src/domain/slots.ts). */
  maxPendingInvitations: number;
  domains: DomainLookupSettings;
  webhooks: WebhookSettings;
  /** Origins allowed to call the API from a browser; empty: CORS closed. */
  corsOrigins: string[];
  /** The platform operator's keys; none: the /platform API answers 404 throughout. */
  platformKeys: PlatformKey[];
  mail: MailConfig;
}

const PLATFORM_KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** What an `Authorization: Bearer` header can carry (RFC 6750's token68 characters). */
const PLATFORM_SECRET = /^[A-Za-z0-9._~+/=-]+$/;
const MIN_PLATFORM_SECRET = 32;

/**
 * `<key id>:<read|write>:<secret>`, comma-separated (several at once, for rotation). A malformed
 * entry stops the Worker like any other invalid setting: a key that silently did not work, or
 * a short one that worked, would be worse. The message names the entry by position and id only.
 */
const platformKeys = () =>
  z.pipe(
    z._default(z.string(), ""),
    z.transform((text: string, ctx): PlatformKey[] => {
      const entries = text
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean);
      const keys: PlatformKey[] = [];
      entries.forEach((entry, i) => {
        const [id = "", scope = "", ...rest] = entry.split(":");
        const secret = rest.join(":");
        const where = `entry ${i + 1}${PLATFORM_KEY_ID.test(id) ? ` (${id})` : ""}`;
        const problem = !PLATFORM_KEY_ID.test(id)
          ? "needs a key id of 1 to 64 [A-Za-z0-9._-]"
          : scope !== "read" && scope !== "write"
            ? "needs the scope read or write"
            : secret.length < MIN_PLATFORM_SECRET
              ? `needs a secret of at least ${MIN_PLATFORM_SECRET} characters`
              : !PLATFORM_SECRET.test(secret)
                ? "needs a secret of [A-Za-z0-9._~+/=-] only"
                : keys.some((k) => k.id === id)
                  ? "repeats a key id"
                  : keys.some((k) => k.secret === secret)
                    ? "repeats another entry's secret"
                    : null;
        if (problem) z.refuse(ctx, `${where} ${problem} (entries are <key id>:<read|write>:<secret>)`);
        else keys.push({ id, scope: scope as PlatformKey["scope"], secret });
      });
      return keys;
    }),
  );

/** MAIL_TEMPLATES, read once: the operator's wording (empty is unset), or a refusal for each problem in it (domain/mail/wording.ts). */
const mailWording = () =>
  z.optional(
    z.pipe(
      z.string(),
      z.transform((json: string, ctx): WordingOverrides | undefined => {
        if (json === "") return undefined;
        const read = parseWording(json);
        if ("problems" in read) for (const problem of read.problems) z.refuse(ctx, problem);
        return "overrides" in read ? read.overrides : undefined;
      }),
    ),
  );

/**
 * Cloudflare's Durable Object location hints. A Durable Object never moves after it is created,
 * so a mistyped hint must stop the Worker at start rather than let the store be created, for
 * good, wherever the first request happened to come from.
 */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
// Spelled out rather than taken from @cloudflare/workers-types: the gateway's Node build reads
// this file too. src/data/connect.ts hands it to the runtime's own type, which checks the list.
export type LocationHint = (typeof LOCATION_HINTS)[number];

const number = (min: number, max: number, fallback: number) => z._default(z.coerce.number().check(z.int(), z.gte(min), z.lte(max)), fallback);

const nonEmpty = (fallback: string) => z._default(z.string().check(z.minLength(1)), fallback);
/** An optional setting that a blank value (`NAME=` in .dev.vars) leaves unset. */
const emptyIsUnset = <T extends z.ZodMiniType>(schema: T) =>
  z.union([
    z.optional(schema),
    z.pipe(
      z.literal(""),
      z.transform(() => undefined),
    ),
  ]);

const jwk = () =>
  z.optional(
    z.pipe(
      z.string(),
      z.transform((text: string, ctx) => {
        try {
          const value = JSON.parse(text);
          if (value && typeof value === "object" && typeof value.kty === "string") return value as JWK;
        } catch {}
        z.refuse(ctx, "must be a JWK in JSON");
        return z.NEVER;
      }),
    ),
  );

/**
 * Built on first use, not at import: the settings are parsed once per isolate, on its first
 * request, and the schema's construction need not lengthen the isolate's start.
 */
const buildSchema = () =>
  z
    .object({
      // No default: a deployed Worker without a key must fail closed, never sign with a known one.
      JWT_SECRET: z.optional(z.string().check(z.minLength(32, "JWT_SECRET must be at least 32 characters"))),
      JWT_SECRET_PREVIOUS: z.optional(z.string().check(z.minLength(32))),
      JWT_PRIVATE_KEY: jwk(),
      JWT_PREVIOUS_PUBLIC_KEY: jwk(),
      JWT_ALGORITHM: z._default(z.enum(["HS256", "HS384", "HS512", "ES256", "EdDSA"]), "HS256"),
      ACCESS_TOKEN_EXPIRE_MINUTES: number(1, 60 * 24 * 30, 60),
      JWT_ISSUER: nonEmpty("org-management-service"),
      JWT_AUDIENCE: nonEmpty("org-management-api"),
      PBKDF2_ITERATIONS: number(10_000, WORKERS_PBKDF2_MAX_ITERATIONS, WORKERS_PBKDF2_MAX_ITERATIONS),
      DATA_API_URL: emptyIsUnset(z.url()),
      DATA_API_KEY: z.optional(z.string()),
      DATA_SOURCE: nonEmpty("mongodb-atlas"),
      DATABASE: nonEmpty("master_db"),
      DATA_API_TIMEOUT_MS: number(100, 60_000, 10_000),
      DATA_STORE_LOCATION_HINT: emptyIsUnset(z.enum(LOCATION_HINTS, { error: `DATA_STORE_LOCATION_HINT must be one of ${LOCATION_HINTS.join(", ")}` })),
      MAX_BODY_BYTES: number(1024, 1024 * 1024, 16 * 1024),
      RECONCILE_AFTER_SECONDS: number(0, 86_400, 120),
      LOGIN_LOCKOUT_THRESHOLD: number(1, 1000, 10),
      LOGIN_FAILURE_BEAT_MS: number(0, 1000, 50),
      AUDIT_RETENTION_DAYS: number(1, 3650, 90),
      INVITATION_TTL_HOURS: number(1, 24 * 90, 24 * 7),
      MAX_PENDING_INVITATIONS: number(1, 10_000, 1000),
      // A public resolver by default: a Worker has no system resolver, so domains are looked up over DNS over HTTPS.
      DNS_RESOLVER_URL: z._default(z.url({ protocol: /^https?$/ }), "https://cloudflare-dns.com/dns-query"),
      DOMAIN_REVERIFY_HOURS: number(0, 24 * 30, 24),
      WEBHOOK_ALLOW_HTTP_LOOPBACK: z._default(z.enum(["0", "1"]), "0"),
      WEBHOOK_TIMEOUT_MS: number(1000, 30_000, 15_000),
      WEBHOOK_SCHEDULE_DIVISOR: number(1, 1_000_000, 1),
      CORS_ALLOWED_ORIGINS: z._default(z.string(), ""),
      PLATFORM_API_KEYS: platformKeys(),
      MAIL_TRANSPORT: z._default(z.enum(["none", "smtp", "send_email"]), "none"),
      // Only whether it is there: the binding is the runtime's, and src/mail/transport.ts calls it.
      SEND_EMAIL: z.optional(z.unknown()),
      MAIL_FROM: emptyIsUnset(z.email()),
      MAIL_FROM_NAME: z.optional(z.string()),
      MAIL_PRODUCT_NAME: nonEmpty("Organization Management"),
      MAIL_LINK_BASE_URL: emptyIsUnset(z.url({ protocol: /^https?$/ })),
      MAIL_TEMPLATES: mailWording(),
      SMTP_HOST: emptyIsUnset(z.string().check(z.minLength(1))),
      SMTP_PORT: number(1, 65_535, 587),
      SMTP_SECURITY: z._default(z.enum(["tls", "starttls", "off"]), "starttls"),
      SMTP_USER: emptyIsUnset(z.string()),
      SMTP_PASSWORD: emptyIsUnset(z.string()),
      SMTP_TIMEOUT_MS: number(1000, 60_000, 10_000),
    })
    .check(
      z.superRefine((c, ctx) => {
        if (c.JWT_ALGORITHM.startsWith("HS") ? !c.JWT_SECRET : !c.JWT_PRIVATE_KEY) {
          const name = c.JWT_ALGORITHM.startsWith("HS") ? "JWT_SECRET" : "JWT_PRIVATE_KEY";
          ctx.addIssue({ code: "custom", path: [name], message: `${name} is required for ${c.JWT_ALGORITHM}` });
        }
        // A transport that would send mail with no sender, no server or links to nowhere stops the Worker at start.
        if (c.MAIL_TRANSPORT !== "none") {
          const required = ["MAIL_FROM", "MAIL_LINK_BASE_URL", c.MAIL_TRANSPORT === "smtp" ? "SMTP_HOST" : "SEND_EMAIL"] as const;
          // The binding, not a variable of its name: only the runtime's has a `send`.
          const present = (name: (typeof required)[number]) =>
            name === "SEND_EMAIL" ? typeof (c.SEND_EMAIL as { send?: unknown } | undefined)?.send === "function" : !!c[name];
          for (const name of required) {
            if (!present(name)) ctx.addIssue({ code: "custom", path: [name], message: `${name} is required for MAIL_TRANSPORT=${c.MAIL_TRANSPORT}` });
          }
        }
      }),
    );

/** Where domains are looked up (DNS over HTTPS, RFC 8484), and how often a verified one is looked up again. */
export interface DomainLookupSettings {
  resolverUrl: string;
  reverifySeconds: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

let schema: ReturnType<typeof buildSchema> | undefined;

export const parseSettings = (env: Record<string, unknown>): Settings => {
  schema ??= buildSchema();
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  }
  const c = parsed.data;
  return {
    token: {
      algorithm: c.JWT_ALGORITHM,
      secret: c.JWT_SECRET,
      previousSecret: c.JWT_SECRET_PREVIOUS,
      privateJwk: c.JWT_PRIVATE_KEY,
      previousPublicJwk: c.JWT_PREVIOUS_PUBLIC_KEY,
      ttlSeconds: c.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
      issuer: c.JWT_ISSUER,
      audience: c.JWT_AUDIENCE,
    },
    pbkdf2Iterations: c.PBKDF2_ITERATIONS,
    data: {
      url: c.DATA_API_URL,
      apiKey: c.DATA_API_KEY,
      dataSource: c.DATA_SOURCE,
      database: c.DATABASE,
      timeoutMs: c.DATA_API_TIMEOUT_MS,
      locationHint: c.DATA_STORE_LOCATION_HINT,
    },
    maxBodyBytes: c.MAX_BODY_BYTES,
    reconcileAfterSeconds: c.RECONCILE_AFTER_SECONDS,
    lockoutThreshold: c.LOGIN_LOCKOUT_THRESHOLD,
    failureBeatMs: c.LOGIN_FAILURE_BEAT_MS,
    auditRetentionDays: c.AUDIT_RETENTION_DAYS,
    invitationTtlSeconds: c.INVITATION_TTL_HOURS * 3600,
    maxPendingInvitations: c.MAX_PENDING_INVITATIONS,
    domains: { resolverUrl: c.DNS_RESOLVER_URL, reverifySeconds: c.DOMAIN_REVERIFY_HOURS * 3600 },
    webhooks: { allowHttpLoopback: c.WEBHOOK_ALLOW_HTTP_LOOPBACK === "1", timeoutMs: c.WEBHOOK_TIMEOUT_MS, scheduleDivisor: c.WEBHOOK_SCHEDULE_DIVISOR },
    corsOrigins: c.CORS_ALLOWED_ORIGINS.split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    platformKeys: c.PLATFORM_API_KEYS,
    mail: {
      transport:
        c.MAIL_TRANSPORT === "smtp"
          ? {
              kind: "smtp",
              smtp: {
                host: c.SMTP_HOST ?? "",
                port: c.SMTP_PORT,
                security: c.SMTP_SECURITY,
                user: c.SMTP_USER,
                password: c.SMTP_PASSWORD,
                timeoutMs: c.SMTP_TIMEOUT_MS,
              },
            }
          : { kind: c.MAIL_TRANSPORT },
      from: { email: c.MAIL_FROM ?? "", name: c.MAIL_FROM_NAME || undefined },
      productName: c.MAIL_PRODUCT_NAME,
      linkBaseUrl: c.MAIL_LINK_BASE_URL ?? "",
      sends: c.MAIL_TRANSPORT !== "none",
      ...(c.MAIL_TEMPLATES ? { wording: c.MAIL_TEMPLATES } : {}),
    },
  };
};

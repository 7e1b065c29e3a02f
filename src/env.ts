/**
 * The Worker's environment: the bindings and vars of wrangler.toml, as `npm run types` generates
 * them into worker-configuration.d.ts (`Cloudflare.Env`), merged there with `Unlisted` below
 * (src/worker-types.d.ts), so the test harness's `env` has the same type.
 */
export type Env = Cloudflare.Env;

/**
 * What wrangler.toml does not name, so `wrangler types` cannot generate it. Secrets are set per
 * deployment (`wrangler secret put`, .dev.vars) and `wrangler types` learns their names only from
 * an env file: `npm run types` reads the committed .dev.vars.example (JWT_SECRET, what `npm start`
 * writes), never a local .dev.vars, so the generated file is the same on every machine and
 * `wrangler dev` finds it current.
 */
export interface Unlisted {
  JWT_SECRET?: string;
  JWT_SECRET_PREVIOUS?: string;
  JWT_PRIVATE_KEY?: string;
  JWT_PREVIOUS_PUBLIC_KEY?: string;
  /** Unset: the embedded Durable Object store; set (with DATA_API_KEY): the gateway. */
  DATA_API_URL?: string;
  DATA_API_KEY?: string;
  /** The platform operator's keys, `<key id>:<read|write>:<secret>,…`; unset: no /platform API. */
  PLATFORM_API_KEYS?: string;
  /** Cloudflare's Email Service, for MAIL_TRANSPORT=send_email: a `[[send_email]]` binding an operator adds (docs/operations.md#mail). */
  SEND_EMAIL?: SendEmail;
  /** Optional settings (src/config/settings.ts) are read by name and validated there. */
  [key: string]: unknown;
}

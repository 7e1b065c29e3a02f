/** The Worker's bindings (wrangler.toml) and settings (vars and secrets). */
export interface Env {
  DATA_STORE: DurableObjectNamespace;
  /** Per-client-IP throttle of login attempts (Workers Rate Limiting binding). */
  LOGIN_RATE_LIMITER?: RateLimit;
  JWT_SECRET?: string;
  JWT_ALGORITHM?: string;
  ACCESS_TOKEN_EXPIRE_MINUTES?: string;
  DATA_API_URL?: string;
  DATA_API_KEY?: string;
  DATA_SOURCE?: string;
  DATABASE?: string;
  [key: string]: unknown;
}

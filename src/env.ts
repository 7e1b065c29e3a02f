/** The Worker's bindings (wrangler.toml) and settings (vars and secrets). */
export interface Env {
  DATA_STORE: DurableObjectNamespace;
  JWT_SECRET?: string;
  JWT_ALGORITHM?: string;
  ACCESS_TOKEN_EXPIRE_MINUTES?: string;
  DATA_API_URL?: string;
  DATA_API_KEY?: string;
  DATA_SOURCE?: string;
  DATABASE?: string;
  [key: string]: unknown;
}

import { z } from "zod";
import { WORKERS_PBKDF2_MAX_ITERATIONS } from "../domain/passwords";
import type { TokenSettings } from "../domain/tokens";

/** The Worker's settings, read once per isolate from its bindings. */
export interface Settings {
  token: TokenSettings;
  pbkdf2Iterations: number;
  data: { url?: string; apiKey?: string; dataSource: string; database: string; timeoutMs: number };
  maxBodyBytes: number;
  /** Operations older than this are settled by the reconciler. */
  reconcileAfterSeconds: number;
}

const number = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const schema = z.object({
  // No default: a deployed Worker without a secret must fail closed, never sign with a known key.
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  JWT_ALGORITHM: z.enum(["HS256", "HS384", "HS512"]).default("HS256"),
  ACCESS_TOKEN_EXPIRE_MINUTES: number(1, 60 * 24 * 30, 60),
  JWT_ISSUER: z.string().min(1).default("org-management-service"),
  JWT_AUDIENCE: z.string().min(1).default("org-management-api"),
  PBKDF2_ITERATIONS: number(10_000, WORKERS_PBKDF2_MAX_ITERATIONS, WORKERS_PBKDF2_MAX_ITERATIONS),
  DATA_API_URL: z
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  DATA_API_KEY: z.string().optional(),
  DATA_SOURCE: z.string().min(1).default("mongodb-atlas"),
  DATABASE: z.string().min(1).default("master_db"),
  DATA_API_TIMEOUT_MS: number(100, 60_000, 10_000),
  MAX_BODY_BYTES: number(1024, 1024 * 1024, 16 * 1024),
  RECONCILE_AFTER_SECONDS: number(0, 86_400, 120),
});

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const parseSettings = (env: Record<string, unknown>): Settings => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  }
  const c = parsed.data;
  return {
    token: { secret: c.JWT_SECRET, algorithm: c.JWT_ALGORITHM, ttlSeconds: c.ACCESS_TOKEN_EXPIRE_MINUTES * 60, issuer: c.JWT_ISSUER, audience: c.JWT_AUDIENCE },
    pbkdf2Iterations: c.PBKDF2_ITERATIONS,
    data: { url: c.DATA_API_URL, apiKey: c.DATA_API_KEY, dataSource: c.DATA_SOURCE, database: c.DATABASE, timeoutMs: c.DATA_API_TIMEOUT_MS },
    maxBodyBytes: c.MAX_BODY_BYTES,
    reconcileAfterSeconds: c.RECONCILE_AFTER_SECONDS,
  };
};

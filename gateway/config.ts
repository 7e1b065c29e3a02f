import { z } from "zod";
import { DEFAULT_MAX_BODY_BYTES } from "../src/dataapi/handler";

/** The gateway's settings, read once at start from its environment (documented in gateway/README.md). */
export interface GatewayConfig {
  mongoUrl: string;
  /** Empty only when GATEWAY_INSECURE_NO_KEY=1 was set on purpose. */
  apiKeys: string[];
  host: string;
  port: number;
  databases?: string[];
  collections?: RegExp;
  maxBodyBytes: number;
  serverSelectionTimeoutMs: number;
  operationTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Where the server has no TTL monitor: how often the gateway looks for expired documents, and where it keeps TTL specs. */
  ttlIntervalMs: number;
  /** How long a collection in which nothing expires sooner, and nothing is written through the gateway, goes without a look. */
  ttlHorizonMs: number;
  ttlMetaDatabase: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const ms = (fallback: number) => z.coerce.number().int().min(1).max(600_000).default(fallback);

const schema = z.object({
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URL")
    .default("mongodb://127.0.0.1:27017"),
  // A short key is guessable; 16 characters is the floor, a random 32-byte hex string the advice.
  // Several keys, comma-separated, let a key be rotated without downtime: add the new, move callers, drop the old.
  GATEWAY_API_KEY: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().min(16, "every key must be at least 16 characters")))
    .optional(),
  GATEWAY_INSECURE_NO_KEY: z.enum(["0", "1"]).default("0"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GATEWAY_DATABASES: z.string().optional(),
  GATEWAY_COLLECTIONS: z.string().optional(),
  GATEWAY_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(DEFAULT_MAX_BODY_BYTES).default(DEFAULT_MAX_BODY_BYTES),
  // Below the Worker's own 10 s deadline (DATA_API_TIMEOUT_MS), so the Worker hears a 503 instead of timing out.
  MONGO_SERVER_SELECTION_TIMEOUT_MS: ms(5_000),
  GATEWAY_OPERATION_TIMEOUT_MS: ms(8_000),
  // Below Docker's default 10 s grace period between SIGTERM and SIGKILL.
  GATEWAY_SHUTDOWN_TIMEOUT_MS: ms(8_000),
  // MongoDB's own TTL monitor runs once a minute; tests shorten it.
  GATEWAY_TTL_INTERVAL_MS: ms(60_000),
  // No later than MongoDB's monitor would look: a document written past the gateway waits no longer than there.
  GATEWAY_TTL_HORIZON_MS: ms(60_000),
  GATEWAY_TTL_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "must be a plain database name")
    .default("gateway_meta"),
});

const list = (value: string | undefined): string[] | undefined => {
  const items = value
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
};

/** Whole-name match: an unanchored pattern would let `org_` admit `x_org_y` too. */
const collectionPattern = (source: string | undefined): RegExp | undefined => {
  if (!source) return undefined;
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    throw new ConfigError("GATEWAY_COLLECTIONS: not a valid regular expression");
  }
};

export const readConfig = (env: Record<string, string | undefined>): GatewayConfig => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const c = parsed.data;
  if (!c.GATEWAY_API_KEY?.length && c.GATEWAY_INSECURE_NO_KEY !== "1") {
    // Fail closed: a gateway without a key hands the whole database to anyone who can reach the port.
    throw new ConfigError("GATEWAY_API_KEY is required (for local development only, GATEWAY_INSECURE_NO_KEY=1 runs without one)");
  }
  return {
    mongoUrl: c.MONGO_URL,
    apiKeys: c.GATEWAY_API_KEY ?? [],
    host: c.HOST,
    port: c.PORT,
    databases: list(c.GATEWAY_DATABASES),
    collections: collectionPattern(c.GATEWAY_COLLECTIONS),
    maxBodyBytes: c.GATEWAY_MAX_BODY_BYTES,
    serverSelectionTimeoutMs: c.MONGO_SERVER_SELECTION_TIMEOUT_MS,
    operationTimeoutMs: c.GATEWAY_OPERATION_TIMEOUT_MS,
    shutdownTimeoutMs: c.GATEWAY_SHUTDOWN_TIMEOUT_MS,
    ttlIntervalMs: c.GATEWAY_TTL_INTERVAL_MS,
    ttlHorizonMs: c.GATEWAY_TTL_HORIZON_MS,
    ttlMetaDatabase: c.GATEWAY_TTL_DATABASE,
  };
};

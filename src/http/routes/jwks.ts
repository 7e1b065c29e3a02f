import { keyRing } from "../../domain/keys";
import type { Env } from "../../env";
import { settingsFor } from "../context";

/** Public keys for other services to verify tokens without the secret (empty with HMAC signing). */
export const jwksRoute = async (_request: Request, env: Env) => {
  const { jwks } = await keyRing(settingsFor(env).token);
  return Response.json({ keys: jwks }, { headers: { "cache-control": "public, max-age=300" } });
};

import { settingsFor } from "../../deps";
import { keyRing } from "../../domain/kernel/keys";
import * as z from "../../zod";
import { defineRoute } from "../route";

const Jwks = z.lazy(() =>
  z
    .object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.optional(z.string()) })) })
    .register(z.globalRegistry, __DOCS__ && { example: { keys: [{ kty: "EC", crv: "P-256", x: "…", y: "…", kid: "2026-01", alg: "ES256", use: "sig" }] } }),
);

/** Public keys for other services to verify tokens without the secret (empty with HMAC signing). */
export const jwksRoute = defineRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tag: "keys",
  summary: __DOCS__ && "The public keys of ES256/EdDSA tokens (empty when tokens are signed with a shared secret)",
  responses: { 200: { description: __DOCS__ && "JSON Web Key Set", schema: Jwks, verbatim: true } },
  errors: [],
  handler: async ({ env }) => {
    const { jwks } = await keyRing(settingsFor(env).token);
    return { body: { keys: jwks }, headers: { "cache-control": "public, max-age=300" } };
  },
});

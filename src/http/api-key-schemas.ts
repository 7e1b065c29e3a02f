import { MAX_ROLL_OVERLAP_SECONDS } from "../domain/api-keys/api-keys";
import { KEY_SCOPES } from "../domain/kernel/roles";
import * as z from "../zod";

/** The organization's API keys: request and response schemas. */
const exampleId = "6650f1c2e8b3e4a0123456ab";
const exampleTime = "2026-01-01T00:00:00.000Z";

export const ApiKeyBody = z.lazy(() =>
  z
    .strictObject({
      name: z
        .string()
        .check(z.minLength(1), z.maxLength(100))
        .register(z.globalRegistry, __DOCS__ && { description: "For people: what the key is for" }),
      scopes: z
        .array(z.enum(KEY_SCOPES))
        .check(z.minLength(1), z.maxLength(KEY_SCOPES.length))
        .register(z.globalRegistry, __DOCS__ && { description: "The permissions the key holds: never more than its creator's role" }),
      expires_at: z.optional(
        z.iso
          .datetime()
          .check(z.refine((text) => Date.parse(text) > Date.now(), "must be in the future"))
          .register(z.globalRegistry, __DOCS__ && { description: "When the key stops working (in the future); omitted: never" }),
      ),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { name: "nightly export", scopes: ["records:read"] } }),
);

export const RollBody = z.lazy(() =>
  z
    .strictObject({
      overlap_seconds: z.optional(
        z
          .int()
          .check(z.minimum(0), z.maximum(MAX_ROLL_OVERLAP_SECONDS))
          .register(
            z.globalRegistry,
            __DOCS__ && { description: "How long the old secret keeps working beside the new one (at most a week); 0 or omitted: it stops at once" },
          ),
      ),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { overlap_seconds: 3600 } }),
);

const keyFields = () => ({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(KEY_SCOPES)),
  prefix: z.string().register(z.globalRegistry, __DOCS__ && { description: "The secret's first characters (no part of its random half): to recognise it" }),
  created_by: z
    .string()
    .register(z.globalRegistry, __DOCS__ && { description: "The `user_id` of the member who created it; the key outlives their membership" }),
  created_at: z.iso.datetime(),
  expires_at: z.nullable(z.iso.datetime()),
  last_used_at: z.nullable(z.iso.datetime()).register(z.globalRegistry, __DOCS__ && { description: "Updated at most once a minute" }),
});

const exampleKey = {
  id: exampleId,
  name: "nightly export",
  scopes: ["records:read"],
  // Spelled out: a template would keep this docs-only example in the production bundle.
  prefix: "oms_6650f1c2e8b3e4a0123456aa6650f1c2e8b3e4a0123456ab0002",
  created_by: "6650f1c2e8b3e4a0123456aa",
  created_at: exampleTime,
  expires_at: null,
  last_used_at: null,
};

export const ApiKeyView = z.lazy(() => z.object(keyFields()));

export const ApiKeyWithSecret = z.lazy(() =>
  z
    .object({
      ...keyFields(),
      secret: z.string().register(z.globalRegistry, __DOCS__ && { description: "The key (`oms_…`), to send as `Authorization: Bearer`; shown only here" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { ...exampleKey, secret: `${exampleKey.prefix}_Yl3mH2Kq9vXb7cQe1RzT0pWn4sAu6dJf8gLk5hNiOoM` } }),
);

export const ApiKeyList = z.lazy(() =>
  z.object({ api_keys: z.array(ApiKeyView) }).register(z.globalRegistry, __DOCS__ && { example: { api_keys: [exampleKey] } }),
);

export const ApiKeyPath = z.lazy(() =>
  z.object({ id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The key's `id`", example: exampleId }) }),
);

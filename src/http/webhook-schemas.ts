import { EVENT_TYPES } from "../domain/kernel/model";
import * as z from "../zod";
import { optionalPageCursor, pageLimitOr } from "./record-schemas";
import { isHexId } from "./route";

/** Webhook endpoints and their delivery log: request and response schemas. */
const exampleId = "6650f1c2e8b3e4a0123456ee";
const exampleTime = "2026-01-01T00:00:00.000Z";

export const WebhookBody = z.lazy(() =>
  z
    .strictObject({
      url: z
        .string()
        .check(z.minLength(1), z.maxLength(2048))
        .register(z.globalRegistry, __DOCS__ && { description: "`https://` (plain `http` only to loopback, where the deployment allows it)" }),
      events: z.optional(
        z
          .array(z.enum(EVENT_TYPES))
          .check(z.minLength(1), z.maxLength(EVENT_TYPES.length))
          .register(z.globalRegistry, __DOCS__ && { description: "The event types to deliver; omitted: all of them" }),
      ),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { url: "https://hooks.example.com/org-events", events: ["member.joined", "member.removed"] } }),
);

const webhookFields = () => ({
  id: z.string(),
  url: z.string(),
  events: z.nullable(z.array(z.enum(EVENT_TYPES))),
  status: z.enum(["enabled", "disabled"]),
  disabled_reason: z.nullable(z.string()),
  created_at: z.iso.datetime(),
  previous_secret_expires_at: z
    .nullable(z.iso.datetime())
    .register(z.globalRegistry, __DOCS__ && { description: "After a rotation, until when the replaced secret still signs (both signatures are sent)" }),
});

const exampleWebhook = {
  id: exampleId,
  url: "https://hooks.example.com/org-events",
  events: ["member.joined", "member.removed"],
  status: "enabled",
  disabled_reason: null,
  created_at: exampleTime,
  previous_secret_expires_at: null,
};

export const WebhookView = z.lazy(() => z.object(webhookFields()));

export const WebhookWithSecret = z.lazy(() =>
  z
    .object({
      ...webhookFields(),
      secret: z.string().register(z.globalRegistry, __DOCS__ && { description: "The signing secret (`whsec_…`), shown only here" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { ...exampleWebhook, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } }),
);

export const WebhookList = z.lazy(() =>
  z.object({ webhooks: z.array(WebhookView) }).register(z.globalRegistry, __DOCS__ && { example: { webhooks: [exampleWebhook] } }),
);

export const WebhookPath = z.lazy(() =>
  z.object({ id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The endpoint's `id`", example: exampleId }) }),
);

export const DeliveryPath = z.lazy(() =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The endpoint's `id`", example: exampleId }),
    delivery_id: z
      .string()
      .register(z.globalRegistry, __DOCS__ && { description: "A delivery's `id`, from the endpoint's log", example: "6650f1c2e8b3e4a0123456ff" }),
  }),
);

export const DeliveryView = z.lazy(() =>
  z.object({
    id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    attempt: z.number(),
    manual: z.boolean(),
    at: z.iso.datetime(),
    status: z.enum(["succeeded", "failed"]),
    response_status: z.nullable(z.number()),
    latency_ms: z.number(),
    error: z.nullable(z.string()),
  }),
);

export const DeliveryPage = z.lazy(() =>
  z.object({ deliveries: z.array(DeliveryView), next_cursor: z.nullable(z.string()) }).register(
    z.globalRegistry,
    __DOCS__ && {
      example: {
        deliveries: [
          {
            id: "6650f1c2e8b3e4a0123456ff",
            event_id: "evt_6650f1c2e8b3e4a0123456cc",
            event_type: "member.joined",
            attempt: 2,
            manual: false,
            at: exampleTime,
            status: "succeeded",
            response_status: 204,
            latency_ms: 41,
            error: null,
          },
        ],
        next_cursor: null,
      },
    },
  ),
);

export const DeliveryListQuery = z.lazy(() =>
  z.object({
    limit: pageLimitOr(50, 200),
    cursor: optionalPageCursor((text) => (isHexId(text) ? text : null)),
  }),
);

export const TestDelivery = z.lazy(() =>
  z
    .object({ delivered: z.boolean(), response_status: z.nullable(z.number()), latency_ms: z.number(), error: z.nullable(z.string()) })
    .register(z.globalRegistry, __DOCS__ && { example: { delivered: true, response_status: 200, latency_ms: 38, error: null } }),
);

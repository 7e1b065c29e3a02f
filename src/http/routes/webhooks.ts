import { ObjectId } from "bson";
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, ownWebhook, redeliver, rotateWebhookSecret } from "../../domain/webhooks/endpoints";
import { deliverTest } from "../../domain/webhooks/send";
import { BODY_ERRORS, defineRoute, idOr404, NO_STORE, TOKEN_ERRORS } from "../route";
import { detailAnswer } from "../schemas";
import { DeliveryListQuery, DeliveryPage, DeliveryPath, TestDelivery, WebhookBody, WebhookList, WebhookPath, WebhookWithSecret } from "../webhook-schemas";

export const createWebhookRoute = defineRoute({
  method: "post",
  path: "/org/webhooks",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "Register a webhook endpoint; its signing secret is answered once",
  description:
    __DOCS__ &&
    "Events recorded from now on are delivered to it in the feed's order, signed as Standard Webhooks specifies (`webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once: a failed attempt is retried over about a day.",
  auth: "required",
  request: { body: { schema: WebhookBody } },
  responses: { 201: { description: __DOCS__ && "Registered", schema: WebhookWithSecret } },
  errors: [...TOKEN_ERRORS, "WEBHOOK_URL_REFUSED", "WEBHOOK_LIMIT", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, caller, input }) => {
    return { status: 201, body: await createWebhook(deps, caller, await input.body()), headers: NO_STORE };
  },
});

export const listWebhooksRoute = defineRoute({
  method: "get",
  path: "/org/webhooks",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "The organization's webhook endpoints (without their secrets)",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The endpoints", schema: WebhookList } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, caller }) => ({ body: await listWebhooks(deps, caller) }),
});

export const deleteWebhookRoute = defineRoute({
  method: "delete",
  path: "/org/webhooks/{id}",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "Delete a webhook endpoint and its delivery log",
  auth: "required",
  request: { path: WebhookPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Deleted", detail: "deleted" }),
  },
  errors: [...TOKEN_ERRORS, "WEBHOOK_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, caller, input }) => {
    await deleteWebhook(deps, caller, idOr404(input.params().id, "WEBHOOK_NOT_FOUND"));
    return { body: { detail: "deleted" } };
  },
});

export const rotateWebhookRoute = defineRoute({
  method: "post",
  path: "/org/webhooks/{id}/rotate-secret",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "Replace the signing secret; the old one keeps signing for a day beside it",
  description: __DOCS__ && "The new secret is answered once. Until `previous_secret_expires_at` every delivery carries two signatures, one per secret.",
  auth: "required",
  request: { path: WebhookPath },
  responses: { 200: { description: __DOCS__ && "Rotated", schema: WebhookWithSecret } },
  errors: [...TOKEN_ERRORS, "WEBHOOK_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, caller, input }) => {
    return { body: await rotateWebhookSecret(deps, caller, idOr404(input.params().id, "WEBHOOK_NOT_FOUND")), headers: NO_STORE };
  },
});

export const testWebhookRoute = defineRoute({
  method: "post",
  path: "/org/webhooks/{id}/test",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "Send the endpoint a signed `webhook.test` delivery now, and answer how it went",
  description:
    __DOCS__ &&
    "Logged with the endpoint's deliveries; not an event of the feed, and never retried. A disabled endpoint is not called (409); nor is one whose URL the deployment's URL policy refuses now, which this disables.",
  auth: "required",
  request: { path: WebhookPath },
  responses: { 200: { description: __DOCS__ && "Sent (whatever the endpoint answered)", schema: TestDelivery } },
  errors: [...TOKEN_ERRORS, "WEBHOOK_NOT_FOUND", "WEBHOOK_DISABLED"],
  handler: async ({ deps, caller, input }) => {
    const hook = await ownWebhook(deps, caller, idOr404(input.params().id, "WEBHOOK_NOT_FOUND"));
    return { body: await deliverTest(deps, { fetch: (url, init) => fetch(url, init) }, hook) };
  },
});

export const listDeliveriesRoute = defineRoute({
  method: "get",
  path: "/org/webhooks/{id}/deliveries",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "The endpoint's delivery log, newest first: each attempt's status, response code, latency and number",
  description: __DOCS__ && "Kept 30 days. Follow `next_cursor` for older attempts.",
  auth: "required",
  request: { path: WebhookPath, query: DeliveryListQuery, blankQueryIsAbsent: true },
  responses: { 200: { description: __DOCS__ && "A page of attempts", schema: DeliveryPage } },
  errors: [...TOKEN_ERRORS, "WEBHOOK_NOT_FOUND", "VALIDATION_FAILED"],
  handler: async ({ deps, caller, input }) => {
    const { limit, cursor } = input.query();
    const before = cursor === undefined ? undefined : ObjectId.createFromHexString(cursor);
    return { body: await listDeliveries(deps, caller, idOr404(input.params().id, "WEBHOOK_NOT_FOUND"), { limit, before }) };
  },
});

export const redeliverRoute = defineRoute({
  method: "post",
  path: "/org/webhooks/{id}/deliveries/{delivery_id}/redeliver",
  permission: "webhook:manage",
  tag: "events",
  summary: __DOCS__ && "Deliver that attempt's event to the endpoint once more",
  description: __DOCS__ && "Queued ahead of the feed and sent shortly, once, with the event's own `webhook-id`; the attempt shows in the log as manual.",
  auth: "required",
  request: { path: DeliveryPath },
  responses: {
    202: detailAnswer(__DOCS__ && { description: "Queued", detail: "queued" }),
  },
  errors: [...TOKEN_ERRORS, "WEBHOOK_NOT_FOUND", "DELIVERY_NOT_FOUND", "WEBHOOK_DISABLED"],
  handler: async ({ deps, caller, input }) => {
    const { id, delivery_id } = input.params();
    await redeliver(deps, caller, idOr404(id, "WEBHOOK_NOT_FOUND"), idOr404(delivery_id, "DELIVERY_NOT_FOUND"));
    deps.wakeWebhooks?.(caller.orgId);
    return { status: 202, body: { detail: "queued" } };
  },
});

export const webhookRoutes = [
  createWebhookRoute,
  listWebhooksRoute,
  deleteWebhookRoute,
  rotateWebhookRoute,
  testWebhookRoute,
  listDeliveriesRoute,
  redeliverRoute,
];

import type { Env } from "./env";
import { router } from "./http/router";
import { scheduled } from "./scheduled";

export { MailDispatcher } from "./mail-dispatcher";
export { DataStore } from "./store/data-store";
export { WebhookDispatcher } from "./webhook-dispatcher";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
  scheduled,
} satisfies ExportedHandler<Env>;

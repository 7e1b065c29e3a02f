import type { Env } from "./env";
import { router } from "./http/router";

export { DataStore } from "./store/data-store";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;

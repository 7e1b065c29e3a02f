import * as z from "../../zod";
import { defineRoute } from "../route";

/** Liveness: answers without any I/O. */
export const healthRoute = defineRoute({
  method: "get",
  path: "/health",
  tag: "operations",
  summary: __DOCS__ && "Liveness: the Worker answers (no I/O)",
  responses: { 200: { description: __DOCS__ && "Alive", schema: z.lazy(() => z.object({ status: z.literal("ok") })) } },
  errors: [],
  handler: () => ({ body: { status: "ok" } }),
});

/** Readiness: the data store answers. */
export const readyRoute = defineRoute({
  method: "get",
  path: "/ready",
  tag: "operations",
  summary: __DOCS__ && "Readiness: the data store answers",
  data: true,
  responses: { 200: { description: __DOCS__ && "Ready", schema: z.lazy(() => z.object({ status: z.literal("ready") })) } },
  errors: ["STORE_UNAVAILABLE"],
  handler: async ({ deps }) => {
    await deps.organizations.countDocuments({ _id: null });
    return { body: { status: "ready" } };
  },
});

import type { Env } from "../../env";
import { type AppRequest, depsFor } from "../context";

/** Liveness: answers without any I/O. */
export const healthRoute = () => Response.json({ status: "ok" });

/** Readiness: the data store answers. */
export const readyRoute = async (request: AppRequest, env: Env) => {
  const deps = await depsFor(request, env);
  await deps.organizations.countDocuments({ _id: null });
  return Response.json({ status: "ready" });
};

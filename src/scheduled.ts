import { reconcile } from "./domain/reconciler";
import type { Env } from "./env";
import { createDeps } from "./http/context";

/** Cron Trigger: settles create, rename and delete operations left half-done. */
export const scheduled = async (controller: ScheduledController, env: Env): Promise<void> => {
  const deps = await createDeps(env);
  const olderThan = new Date(controller.scheduledTime - deps.settings.reconcileAfterSeconds * 1000);
  const report = await reconcile(deps, olderThan);
  console.log(JSON.stringify({ msg: "reconcile", cron: controller.cron, ...report, data_round_trips: deps.data.roundTrips }));
};

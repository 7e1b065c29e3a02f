import { createDeps, settingsFor } from "./deps";
import { sweepStaleAttempts } from "./domain/accounts/accounts";
import { reconcile } from "./domain/reconciler/reconciler";
import type { Env } from "./env";

/** Cron Trigger: settles create, rename and delete operations left half-done; forgets stale lockout counters. */
export const scheduled = async (controller: ScheduledController, env: Env): Promise<void> => {
  const deps = await createDeps(env);
  const olderThan = new Date(controller.scheduledTime - settingsFor(env).reconcileAfterSeconds * 1000);
  const report = await reconcile(deps, olderThan);
  // Stores without TTL indexes (FerretDB) keep stale lockout counters until swept.
  const stale_login_counters = await sweepStaleAttempts(deps, new Date(controller.scheduledTime));
  console.log(JSON.stringify({ msg: "reconcile", cron: controller.cron, ...report, stale_login_counters, data_round_trips: deps.data.roundTrips }));
};

import { ObjectId } from "bson";
import { createDeps } from "./deps";
import { Dispatcher } from "./dispatcher";
import type { LastDelivery } from "./domain/kernel/deps";
import { dispatchOrganization } from "./domain/webhooks/dispatch";
import { sendLastDeliveries } from "./domain/webhooks/last-deliveries";

/** With every endpoint caught up, the dispatcher still looks again this often: the net under a wake-up that was lost. */
export const IDLE_LOOK_MS = 5 * 60 * 1000;
/** After a failed run (the store unreachable, say), the next one. */
const AFTER_FAILURE_MS = 60 * 1000;

/**
 * One per organization with webhooks (named by its id): runs its deliveries one at a time, in
 * order, from its alarm. The object keeps only the organization's id and its alarm; where each
 * endpoint stands is in the data store, so a deleted organization's object holds nothing once it
 * finds no endpoint (it then clears its storage), and any store works, the gateway included.
 *
 * The alarm, not a queue: retries are due hours apart (a queue's delay is capped at 12 hours), an
 * endpoint's events must leave in order (a queue retries one message while the next go on), and an
 * alarm is durable, retried by the platform when it throws, and runs in Miniflare as deployed.
 */
export class WebhookDispatcher extends Dispatcher {
  /** The run under way: an alarm that comes during one (a retry of the platform's, a test's) waits for it, so runs never overlap. */

  /**
   * There is something to deliver for this organization: run now (or right after the run under
   * way). The Worker names its master database, which the object then uses (the deployment's, but
   * a Worker configured with another, as the test suites are, is served from that one).
   */
  async poke(orgHex: string, database: string): Promise<void> {
    this.poked = true;
    const known = await this.ctx.storage.get<{ org: string; database: string }>("target");
    if (known?.org !== orgHex || known.database !== database) await this.ctx.storage.put("target", { org: orgHex, database });
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > Date.now()) await this.ctx.storage.setAlarm(Date.now());
  }

  /**
   * A deleted organization's last deliveries (webhooks/last-deliveries.ts), kept here until each is
   * accepted or given up on: the delete removes everything else right after handing them over.
   */
  async takeLastDeliveries(deliveries: LastDelivery[], database: string): Promise<void> {
    // Stored under the key "farewells", the name dispatchers running before the rename wrote them under.
    const known = (await this.ctx.storage.get<LastDelivery[]>("farewells")) ?? [];
    const keys = new Set(known.map((f) => f.key));
    await this.ctx.storage.put({ farewells: [...known, ...deliveries.filter((d) => !keys.has(d.key))], farewell_database: database });
    this.poked = true;
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > Date.now()) await this.ctx.storage.setAlarm(Date.now());
  }

  protected async run(): Promise<void> {
    this.poked = false;
    const http = { fetch: (input: string, init: RequestInit) => fetch(input, init) };
    let next: number | null = null;
    const earliest = (at: number | null) => {
      if (at !== null) next = next === null ? at : Math.min(next, at);
    };
    const deliveries = await this.ctx.storage.get<LastDelivery[]>("farewells");
    if (deliveries?.length) {
      try {
        const database = (await this.ctx.storage.get<string>("farewell_database")) ?? this.env.DATABASE;
        const { left, wake } = await sendLastDeliveries(await createDeps(this.envFor(database)), http, deliveries);
        await this.ctx.storage.put("farewells", left);
        earliest(wake);
      } catch (error) {
        console.error(JSON.stringify({ msg: "webhook last deliveries failed; retrying later", error: String(error) }));
        earliest(Date.now() + AFTER_FAILURE_MS);
      }
    }
    const target = await this.ctx.storage.get<{ org: string; database: string }>("target");
    if (target) {
      try {
        const deps = await createDeps(this.envFor(target.database));
        const { wake, gone } = await dispatchOrganization(deps, http, ObjectId.createFromHexString(target.org));
        if (gone && !this.poked) await this.ctx.storage.delete("target");
        else earliest(wake ? wake.getTime() : Date.now() + IDLE_LOOK_MS);
      } catch (error) {
        console.error(JSON.stringify({ msg: "webhook dispatch failed; retrying later", org_id: target.org, error: String(error) }));
        earliest(Date.now() + AFTER_FAILURE_MS);
      }
    }
    // A poke during the run may have found the alarm running and set none: look again at once.
    if (this.poked) earliest(Date.now());
    if (next !== null) await this.ctx.storage.setAlarm(next);
    else if (((await this.ctx.storage.get<LastDelivery[]>("farewells")) ?? []).length === 0) await this.ctx.storage.deleteAll();
  }
}

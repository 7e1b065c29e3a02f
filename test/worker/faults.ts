import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { type Account, type AccountDoc, USERS } from "../../src/domain/accounts/accounts";
import type { Deps } from "../../src/domain/kernel/deps";
import { memberOf, ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { storeClient } from "../helpers";

/**
 * Fault injection shared by the crash matrices: a store client that stops answering at one call
 * (the request never arrives, or it is applied and the answer is lost, as when the Worker dies).
 */

export type Fault = { failAt: number; mode: "before" | "after" };

let databases = 0;
export const freshDatabase = () => `lifecycle_${Date.now().toString(36)}_${databases++}`;

/** Holds one call of the store until `until` settles: a Worker paused mid-operation while others go on. */
export type Hold = { at: number; until: Promise<unknown> };

/**
 * Mail is off for these deps unless a file turns it on (the crash matrix, whose operations include
 * queueing mail): then messages are queued in the outbox, and never sent, as no dispatcher is woken.
 */
let mail: Record<string, string> = { MAIL_TRANSPORT: "none" };
export const withMailQueued = () => {
  mail = { MAIL_TRANSPORT: "smtp", SMTP_HOST: "127.0.0.1" };
};

export const depsFor = (database: string, fault?: Fault, hold?: Hold): Deps => {
  const settings = parseSettings({ ...env, DATABASE: database, PBKDF2_ITERATIONS: "10000", ...mail });
  const data = storeClient(database, (send) => {
    let calls = 0;
    return async (request) => {
      calls++;
      if (hold && calls === hold.at) await hold.until;
      if (!fault || calls < fault.failAt) return send(request);
      if (fault.mode === "after" && calls === fault.failAt) await send(request);
      throw new Error("injected fault: the store is gone");
    };
  });
  return {
    data,
    organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
    settings,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    // A healthy Worker runs its after-answer work (a write lease given back, a flag cleared): left
    // undone, every later rename, delete or suspension waits for the lease to expire. Work after a
    // fault is lost, as when the Worker dies.
    background: fault ? () => {} : (task) => void task(depsFor(database)).catch(() => {}),
  };
};

/** Each call of an operation, cut before it arrives and after it was applied. */
export const faults = (steps: number): Fault[] =>
  Array.from({ length: steps }, (_, i) => [
    { failAt: i + 1, mode: "before" as const },
    { failAt: i + 1, mode: "after" as const },
  ]).flat();

/**
 * Once settled, accounts and memberships agree: each member's account lists the organization, an
 * account lists only organizations it belongs to, and only an account opened by sign-up lists none.
 */
export const checkAccounts = async (deps: Deps, orgs: OrganizationDoc[]) => {
  const accounts = (await deps.data.collection<AccountDoc>(USERS).find({ user_id: { $exists: true } })) as Account[];
  for (const org of orgs) {
    for (const member of Object.values(org.members)) {
      const account = accounts.find((a) => a.user_id.equals(member.user_id));
      expect(
        account?.org_ids.some((id) => id.equals(org._id)),
        `${member.email} lists ${org.organization_name}`,
      ).toBe(true);
    }
  }
  for (const account of accounts) {
    // An account opened by sign-up stays in no organization; any other closes with its last one.
    if (!account.signed_up_at) expect(account.org_ids.length, `${account.email} belongs somewhere`).toBeGreaterThan(0);
    for (const id of account.org_ids) {
      const org = orgs.find((o) => o._id.equals(id));
      expect(org && memberOf(org, account.user_id), `${account.email} is a member of each organization it lists`).toBeTruthy();
    }
  }
};

/** Where the crash matrix stops the Worker: around one step of one declared operation. */
export interface Cut {
  kind: string;
  step: string;
  when: "before" | "after";
}

export class Crash extends Error {}

/**
 * Dependencies that die at `cut`: the step's call never made (before), or made and its answer lost
 * (after). From then on the store answers nothing, so work in flight or queued after the answer
 * (a lease given back, a publish) is lost, as when the Worker dies. `settled()` waits for the work
 * after the answer that was still going.
 */
export const crashingDeps = (database: string, cut: Cut) => {
  const state = { reached: false, tasks: [] as Promise<unknown>[] };
  const data = storeClient(database, (send) => async (request) => {
    if (state.reached) throw new Crash("the Worker is gone");
    return send(request);
  });
  const deps: Deps = {
    ...depsFor(database),
    data,
    organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
    background: (task) => {
      if (!state.reached) state.tasks.push(task(deps).catch(() => {}));
    },
    cut: (kind, step, when) => {
      if (state.reached || kind !== cut.kind || step !== cut.step || when !== cut.when) return;
      state.reached = true;
      throw new Crash(`stopped ${when} ${kind}: ${step}`);
    },
  };
  const settled = async () => {
    for (let seen = 0; seen < state.tasks.length; seen = state.tasks.length) await Promise.all(state.tasks);
  };
  return { deps, state, settled };
};

/** Deps whose clock runs ahead: the reconciler, once no request can still be at work (a relay's window, a lease). */
export const laterDeps = (database: string): Deps => ({ ...depsFor(database), now: () => new Date(Date.now() + 120_000) });

import { runDurableObjectAlarm } from "cloudflare:test";
import { ObjectId } from "bson";
import { expect, inject } from "vitest";
import { createDeps } from "../../src/deps";
import type { Env } from "../../src/env";
import { bearer, call, env, postJson } from "../helpers";

/**
 * The webhook receiver on loopback (test/node/receiver.ts) as the webhook suites drive it: its
 * endpoints configured and read over HTTP, the organization's dispatcher run by hand.
 */
export const receiver = inject("receiverUrl");

export interface Received {
  id: string;
  timestamp: string;
  status: number;
  verified: boolean[];
  body: { type: string; data: { id: string; type: string } };
}

export const configure = (name: string, config: { secrets: string[]; failFirst?: number; status?: number; delayMs?: number; trickle?: boolean }) =>
  fetch(`${receiver}/_endpoints/${name}`, { method: "PUT", body: JSON.stringify(config) });
export const receivedAt = async (name: string): Promise<Received[]> => (await (await fetch(`${receiver}/_endpoints/${name}`)).json()) as Received[];

export const orgIdOf = (token: string): ObjectId =>
  ObjectId.createFromHexString(JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))).org_id);
export const dispatcherOf = (token: string) => env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(orgIdOf(token).toHexString()));

/** A receiver endpoint name of its own for this test. */
export const endpointName = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export const register = async (token: string, name: string, extra: Record<string, unknown> = {}, query = "") => {
  const res = await postJson("/org/webhooks", { url: `${receiver}/hooks/${name}${query}`, ...extra }, bearer(token));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; secret: string; url: string };
};

export const feedOf = async (token: string) =>
  (
    (await (await call("/org/events?limit=200", { headers: bearer(token) })).json()) as {
      events: { id: string; type: string; data: Record<string, unknown> }[];
    }
  ).events;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds, for at most `ms`; answers whether it did. */
export const waitFor = async (done: () => Promise<boolean>, ms = 10_000): Promise<boolean> => {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
};

/**
 * Runs the dispatcher's alarm again and again (each run awaited) until `stop()` holds or `ms` have
 * passed; the promise ends with the run in flight, so awaiting it waits that run out.
 */
export const pumpAlarms = async (stub: Parameters<typeof runDurableObjectAlarm>[0], stop: () => boolean, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!stop() && Date.now() < deadline) {
    await runDurableObjectAlarm(stub);
    await sleep(20);
  }
};

/** The domain's dependencies on this file's database, with settings of their own (as another deployment's). */
export const depsWith = (overrides: Record<string, string>) => createDeps({ ...env, ...overrides } as unknown as Env);

/** The Worker's own outbound fetch, as the dispatcher and `/test` use it. */
export const http = { fetch: (url: string, init: RequestInit) => fetch(url, init) };

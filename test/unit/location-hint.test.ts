import { describe, expect, it } from "vitest";
import { LOCATION_HINTS, parseSettings } from "../../src/config/settings";
import { dataTarget } from "../../src/data/connect";
import type { Env } from "../../src/env";

const base = { JWT_SECRET: "x".repeat(32) };

/** A namespace that records the options each stub was asked for, and answers nothing else. */
const recordingNamespace = () => {
  const calls: (DurableObjectNamespaceGetDurableObjectOptions | undefined)[] = [];
  const namespace = {
    idFromName: (name: string) => ({ name }),
    get: (_id: unknown, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
      calls.push(options);
      return { fetch: async () => new Response(null) };
    },
  };
  return { calls, env: { DATA_STORE: namespace } as unknown as Env };
};

describe("DATA_STORE_LOCATION_HINT", () => {
  it("is unset by default, and empty means unset", () => {
    expect(parseSettings(base).data.locationHint).toBeUndefined();
    expect(parseSettings({ ...base, DATA_STORE_LOCATION_HINT: "" }).data.locationHint).toBeUndefined();
  });

  it.each(LOCATION_HINTS)("accepts %s", (hint) => {
    expect(parseSettings({ ...base, DATA_STORE_LOCATION_HINT: hint }).data.locationHint).toBe(hint);
  });

  it.each(["eu", "WEUR", "us-east-1", "weur "])("refuses %j at start, naming the setting", (hint) => {
    expect(() => parseSettings({ ...base, DATA_STORE_LOCATION_HINT: hint })).toThrow(/DATA_STORE_LOCATION_HINT/);
  });

  it("is passed to the Durable Object stub of the embedded store", () => {
    const { calls, env } = recordingNamespace();
    dataTarget(env, parseSettings({ ...base, DATA_STORE_LOCATION_HINT: "oc" }));
    dataTarget(env, parseSettings(base));
    expect(calls).toEqual([{ locationHint: "oc" }, undefined]);
  });

  it("does not touch the Durable Object namespace when the gateway is the store", () => {
    const { calls, env } = recordingNamespace();
    dataTarget(env, parseSettings({ ...base, DATA_STORE_LOCATION_HINT: "oc", DATA_API_URL: "https://gateway.example.com" }));
    expect(calls).toEqual([]);
  });
});

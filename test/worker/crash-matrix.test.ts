import { describe, expect, it } from "vitest";
import type { Operation } from "../../src/domain/kernel/operation";
import { OPERATIONS } from "../../src/domain/operations";
import { reconcile } from "../../src/domain/reconciler/reconciler";
import { ALSO_STARTED_BY, SCENARIOS, type Scenario } from "./crash-scenarios";
import { Crash, type Cut, crashingDeps, depsFor, freshDatabase, laterDeps, withMailQueued } from "./faults";

/**
 * The crash matrix, derived from the operation declarations (src/domain/operations.ts): every step
 * of every registered operation is cut before it runs and after it ran with its answer lost; then
 * the reconciler runs, nothing is left half-done (no operation finds a marker), and the
 * operation's own invariants hold (crash-scenarios.ts). An operation added to the registry is
 * crash-tested by being declared: without a scenario, the first test here fails.
 */

// Every change that asks for mail carries it here, so the operations that queue it are reached.
withMailQueued();

const cutsOf = (operation: Operation<unknown>): Cut[] =>
  operation.steps.flatMap((step) => [
    { kind: operation.kind, step: step.name, when: "before" as const },
    { kind: operation.kind, step: step.name, when: "after" as const },
  ]);

const kinds = OPERATIONS.map(({ operation }) => operation.kind);

it("every declared operation has a crash scenario, and every scenario a declared operation", () => {
  expect(Object.keys(SCENARIOS).sort()).toEqual([...kinds].sort());
  expect(Object.keys(ALSO_STARTED_BY).filter((kind) => !kinds.includes(kind))).toEqual([]);
  expect(new Set(kinds).size).toBe(kinds.length);
});

/** Nothing half-done: no registered operation finds a marker, however old. */
const nothingLeft = async (database: string) => {
  const later = laterDeps(database);
  const farFuture = new Date(Date.now() + 86_400_000);
  for (const { operation } of OPERATIONS) {
    expect(await operation.abandoned(later, farFuture, 1000), `${operation.kind} left a marker`).toEqual([]);
  }
};

/** Each operation with its own scenario, then with every other request that starts it. */
const entries = OPERATIONS.flatMap(({ operation }) => {
  const own = SCENARIOS[operation.kind];
  const others = Object.entries(ALSO_STARTED_BY[operation.kind] ?? {}).map(([by, scenario]) => ({
    name: `${operation.kind}, started by ${by}`,
    operation,
    scenario,
  }));
  return [...(own ? [{ name: operation.kind, operation, scenario: own }] : []), ...others];
});

describe.each(entries)("$name", ({ operation, scenario }: { operation: Operation<unknown>; scenario: Scenario }) => {
  it("runs whole without a crash", async () => {
    const database = freshDatabase();
    const world = await scenario.setUp(database);
    await scenario.start(depsFor(database), world);
    await reconcile(laterDeps(database), new Date(Date.now() + 120_000));
    await nothingLeft(database);
    await scenario.check(depsFor(database), world);
  });

  it.each(cutsOf(operation))("stopped $when '$step', then reconciled", async (cut) => {
    const database = freshDatabase();
    const world = await scenario.setUp(database);
    const crashing = crashingDeps(database, cut);
    await scenario.start(crashing.deps, world).catch((error) => {
      if (!(error instanceof Crash)) throw error;
    });
    await crashing.settled();
    // The cut was reached: on the request's path, in its work after the answer, or in the reconciler's run.
    expect(crashing.state.reached, "the cut was reached").toBe(true);
    const report = await reconcile(laterDeps(database), new Date(Date.now() + 120_000));
    expect(report.failed).toBe(0);
    await nothingLeft(database);
    await scenario.check(depsFor(database), world);
  });
});

import { DataError, DataUnavailableError } from "../../data/errors";
import type { Deps } from "./deps";
import { AppError, type ErrorCode } from "./errors";

/**
 * The one way to do a multi-step operation.
 *
 * MongoDB (and FerretDB) change one document atomically and nothing more, so an operation that
 * touches several documents or collections is done as: mark the change on one document (the
 * *marker*, written by the same guarded update that makes the operation's first change), run
 * ordered steps that are each idempotent and guarded by the marker, and let the marker go with
 * the last step. A request runs the steps at once. A crash, a timeout or a lost answer leaves a
 * marker; the reconciler (src/domain/reconciler) asks every registered operation for markers
 * older than the longest a request can take, and runs the same steps again from the first: a step
 * that already happened matches nothing or finds its work done.
 *
 * A step the store refuses for good (a 4xx that is not a timeout) is not retried forever where the
 * operation says what to do: it is undone, or its marker is flagged failed for an operator. An
 * operation that declares neither (its steps only relay, clear or confirm) is tried again by the
 * next run.
 */
export interface Operation<Marker> {
  /** The registry's name of the operation, as the crash matrix and the reconciler's log name it. */
  kind: string;
  /** What the document carrying the marker is, in a few words: the reconciler's log, and the docs. */
  marker: string;
  /** The markers a crash left: marked before `olderThan`, at most `limit` (the next run takes the rest). */
  abandoned: (deps: Deps, olderThan: Date, limit: number) => Promise<Marker[]>;
  /** In order; each may run again after any crash, including a crash after it and before its answer. */
  steps: readonly Step<Marker>[];
  /** Undoes the operation when a step is refused for good; without it the marker is flagged with `flagFailed`. */
  undo?: (deps: Deps, marker: Marker, error: DataError) => Promise<void>;
  /** Flags the marker so that the reconciler stops retrying it and an operator can look. */
  flagFailed?: (deps: Deps, marker: Marker, error: DataError) => Promise<void>;
}

export interface Step<Marker> {
  name: string;
  /** Answering `"undone"` says the step found the operation impossible and put things back: no later step runs. */
  run: (deps: Deps, marker: Marker) => Promise<unknown>;
  /**
   * A cheaper form for the request that marked the operation, which knows this step never ran
   * (an event made just now cannot be in any outbox yet). The reconciler always uses `run`.
   */
  onRequest?: (deps: Deps, marker: Marker) => Promise<unknown>;
  /** On the request path this step and the ones after it run once the answer is sent (they only tidy up). */
  afterAnswer?: true;
}

export type Outcome = "finished" | "undone";

/** Declares an operation; the registry (src/domain/operations.ts) lists every one. */
export const defineOperation = <Marker>(operation: Operation<Marker>): Operation<Marker> => operation;

/** Runs steps from `from` on, each under the crash matrix's seam (`deps.cut`, which a running service never sets). */
const runFrom = async <Marker>(operation: Operation<Marker>, deps: Deps, marker: Marker, from: number, onRequest: boolean): Promise<Outcome> => {
  for (const step of operation.steps.slice(from)) {
    deps.cut?.(operation.kind, step.name, "before");
    const outcome = await (onRequest && step.onRequest ? step.onRequest : step.run)(deps, marker);
    deps.cut?.(operation.kind, step.name, "after");
    if (outcome === "undone") return "undone";
  }
  return "finished";
};

/** The reconciler's run: every step from the first, inline. */
export const runSteps = <Marker>(operation: Operation<Marker>, deps: Deps, marker: Marker): Promise<Outcome> => runFrom(operation, deps, marker, 0, false);

/**
 * The request's run, right after it wrote the marker: the steps before the first `afterAnswer`
 * one inline, the rest after the answer.
 */
export const runForRequest = async <Marker>(operation: Operation<Marker>, deps: Deps, marker: Marker): Promise<Outcome> => {
  const tail = operation.steps.findIndex((step) => step.afterAnswer);
  const inline = tail === -1 ? operation.steps.length : tail;
  const outcome = await runFrom({ ...operation, steps: operation.steps.slice(0, inline) }, deps, marker, 0, true);
  if (outcome === "finished" && tail !== -1) deps.background((after) => runFrom(operation, after, marker, inline, true));
  return outcome;
};

/**
 * Runs the steps for the request that marked the operation: a step the store refuses for good
 * undoes the operation and answers `refused` (e.g. a collection name one store allows and another
 * refuses); any other failure leaves the marker to the reconciler.
 */
export const runUndoingRefusal = async <Marker>(operation: Operation<Marker>, deps: Deps, marker: Marker, refused: ErrorCode): Promise<Outcome> => {
  try {
    return await runForRequest(operation, deps, marker);
  } catch (error) {
    if (!isPermanentFailure(error) || !operation.undo) throw error;
    await operation.undo(deps, marker, error);
    throw new AppError(refused);
  }
};

/**
 * A store answered that it will never accept this step (a 4xx other than the conflicts the steps
 * expect), e.g. a collection name one store allows and another refuses. Repeating it cannot help.
 */
export const isPermanentFailure = (error: unknown): error is DataError => error instanceof DataError && !(error instanceof DataUnavailableError);

/** How many markers of one operation a reconciler run looks at; the next run takes the rest. */
export const RECONCILE_BATCH = 100;

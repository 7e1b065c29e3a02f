import { MongoServerError } from "mongodb";
import { DataApiError } from "../src/dataapi/errors";

/** MongoDB's MaxTimeMSExpired: the server stopped the command at its maxTimeMS. */
const MAX_TIME_MS_EXPIRED = 50;
/** FerretDB answers a findAndModify cut by maxTimeMS with InternalError rather than MaxTimeMSExpired. */
const INTERNAL_ERROR = 1;

/**
 * The time one action may take: the gateway's operation timeout, or the request's own deadline
 * when that comes first. Every command carries what is left as `maxTimeMS`, so the database
 * stops the work, not only the answer; a write waiting in the gateway's queue spends the same
 * budget, and is not started once it is spent.
 */
export class Budget {
  readonly until: number;
  /** True when the caller's deadline, not the gateway's timeout, is the bound. */
  private readonly callersDeadline: boolean;

  constructor(
    operationTimeoutMs: number,
    deadline: number | undefined,
    private readonly now: () => number = Date.now,
  ) {
    const timeout = now() + operationTimeoutMs;
    this.callersDeadline = deadline !== undefined && deadline < timeout;
    // Whole milliseconds: servers refuse a fractional maxTimeMS, and rounding down never runs late.
    this.until = this.callersDeadline ? Math.floor(deadline as number) : timeout;
  }

  /** Milliseconds left, 0 once spent. */
  left(): number {
    return Math.max(0, this.until - this.now());
  }

  /** The error that says the budget ran out: the caller's deadline, or the gateway's timeout. */
  spent(): DataApiError {
    return this.callersDeadline
      ? new DataApiError("DeadlineExceeded", "the request's deadline has passed")
      : new DataApiError("ServiceUnavailable", "database operation timed out");
  }

  /** Options for a driver call: the server gives up when the budget does. Throws when nothing is left, so nothing is sent. */
  maxTime(): { maxTimeMS: number } {
    const left = this.left();
    if (left === 0) throw this.spent();
    return { maxTimeMS: left };
  }

  /** Whether a server error means the command ran out of the time it was given. */
  isTimeout(error: unknown): boolean {
    if (!(error instanceof MongoServerError)) return false;
    return error.code === MAX_TIME_MS_EXPIRED || (error.code === INTERNAL_ERROR && this.left() === 0);
  }
}

import type { DataErrorCode } from "../dataapi/errors";

/** A failure reported by the data store, typed by the protocol's stable `error_code`. */
export class DataError extends Error {
  constructor(
    readonly code: DataErrorCode | "Unavailable",
    message: string,
  ) {
    super(message);
    this.name = "DataError";
  }
}

/** A unique index refused a write: the caller maps it to a conflict. */
export class DuplicateKeyError extends DataError {
  constructor(message: string) {
    super("DuplicateKey", message);
    this.name = "DuplicateKeyError";
  }
}

/** The store could not be reached, timed out, or answered with a server fault. */
export class DataUnavailableError extends DataError {
  constructor(message: string) {
    super("Unavailable", message);
    this.name = "DataUnavailableError";
  }
}

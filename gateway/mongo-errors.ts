import {
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { DataApiError } from "../src/dataapi/errors";

/** Server error codes by name, as MongoDB's error_codes.yml spells them. */
export const CODE = {
  InternalError: 1,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  NamespaceExists: 48,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NotImplemented: 238,
  DuplicateKey: 11000,
  DuplicateKeyLegacy: 11001,
} as const;

/** Codes that say the caller's request is malformed or unsupported: BadValue, FailedToParse, TypeMismatch, ImmutableField and their kin. */
const CLIENT_CODES = new Set([2, 4, 9, 14, 16, 20, 22, 28, 30, 40, 52, 53, 54, 55, 56, 57, 66, 67, 72, 73, 10334, CODE.NotImplemented]);

/**
 * Codes that say the deployment cannot answer right now (failover, shutdown, timeouts): the
 * Worker may retry what is safe to repeat. MaxTimeMSExpired, HostUnreachable, NetworkTimeout,
 * ShutdownInProgress, PrimarySteppedDown, ExceededTimeLimit, SocketException, NotWritablePrimary,
 * InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
 */
const UNAVAILABLE_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

const codeOf = (error: MongoError): number | undefined => (typeof error.code === "number" ? error.code : undefined);

/**
 * FerretDB (SQLite backend) reports a unique-index violation caused by an update as code 1
 * InternalError carrying SQLite's own text, not 11000. Its message is the only signal there is,
 * so this is the one place that reads a message; everything else branches on codes.
 */
const isFerretDbUniqueViolation = (error: MongoError): boolean => codeOf(error) === CODE.InternalError && error.message.includes("UNIQUE constraint failed");

export const isDuplicateKey = (error: MongoError): boolean => {
  const code = codeOf(error);
  return code === CODE.DuplicateKey || code === CODE.DuplicateKeyLegacy || isFerretDbUniqueViolation(error);
};

/** Labels the driver puts on errors worth retrying once the deployment recovers (e.g. a write that found its pool cleared). */
const TRANSIENT_LABELS = ["RetryableWriteError", "PoolRequestedRetry"];

const isUnavailable = (error: MongoError): boolean =>
  error instanceof MongoNetworkError ||
  error instanceof MongoServerSelectionError ||
  error instanceof MongoTopologyClosedError ||
  error instanceof MongoNotConnectedError ||
  error instanceof MongoServerClosedError ||
  TRANSIENT_LABELS.some((label) => error.hasErrorLabel(label)) ||
  UNAVAILABLE_CODES.has(codeOf(error) ?? -1);

/**
 * Turns what the driver throws into the protocol's typed errors. Anything not recognised is
 * returned unchanged, so the handler answers 500 without detail and logs it.
 */
export const toDataApiError = (error: unknown): unknown => {
  if (error instanceof DataApiError || !(error instanceof MongoError)) return error;
  if (isDuplicateKey(error)) return new DataApiError("DuplicateKey", "duplicate key error");
  if (isUnavailable(error)) return new DataApiError("ServiceUnavailable", "database unavailable");
  if (error instanceof MongoInvalidArgumentError) return new DataApiError("InvalidParameter", error.message);
  const code = codeOf(error);
  if (code === CODE.NamespaceNotFound) return new DataApiError("NamespaceNotFound", "namespace does not exist");
  if (code === CODE.NamespaceExists) return new DataApiError("NamespaceExists", "target namespace exists");
  if (code === CODE.IndexOptionsConflict || code === CODE.IndexKeySpecsConflict) return new DataApiError("IndexConflict", error.message);
  // Location codes (five digits and up) are assertions on the request, e.g. an unknown pipeline stage.
  if (code !== undefined && (CLIENT_CODES.has(code) || code >= 10000)) return new DataApiError("InvalidParameter", error.message);
  return error;
};

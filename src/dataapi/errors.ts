/**
 * Errors of the Data API protocol. Engines throw these; the protocol handler turns them into
 * `{"error", "error_code"}` bodies, and the Worker's client turns the bodies back into these
 * classes, so no layer ever branches on a message.
 */
export const DATA_ERROR_STATUS = {
  InvalidParameter: 400,
  MissingParameter: 400,
  ForbiddenOperator: 400,
  InvalidSession: 401,
  Forbidden: 403,
  ActionNotFound: 404,
  NamespaceNotFound: 404,
  DuplicateKey: 409,
  NamespaceExists: 409,
  IndexConflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  ServiceUnavailable: 503,
  /** The request's own `deadline` passed before the action ran (or, on the gateway, before the database finished it). */
  DeadlineExceeded: 503,
  InternalServerError: 500,
} as const;

export type DataErrorCode = keyof typeof DATA_ERROR_STATUS;

export class DataApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: DataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DataApiError";
    this.status = DATA_ERROR_STATUS[code];
  }
}

export const isDataErrorCode = (value: unknown): value is DataErrorCode => typeof value === "string" && Object.hasOwn(DATA_ERROR_STATUS, value);

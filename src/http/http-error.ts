import { AppError, ERRORS, type ErrorCode } from "../domain/kernel/errors";

/** One item of FastAPI's 422 body. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** A request that failed validation: rendered as FastAPI's `{"detail": [{loc, msg, type}]}`. */
export class ValidationError extends AppError {
  constructor(readonly issues: ValidationIssue[]) {
    super("VALIDATION_FAILED");
    this.name = "ValidationError";
  }
}

export const fail = (code: ErrorCode, message?: string): never => {
  throw new AppError(code, message);
};

export const detailResponse = (status: number, detail: unknown, headers?: HeadersInit): Response => Response.json({ detail }, { status, headers });

/** The single place where errors become responses; anything unknown is a bare 500. */
export const errorResponse = (error: unknown, requestId: string): Response => {
  if (error instanceof ValidationError) return detailResponse(422, error.issues);
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.status === 401) headers["www-authenticate"] = "Bearer";
    if (error.retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfter)));
    else if (error.status === 503) headers["retry-after"] = "5";
    return detailResponse(error.status, error.message, headers);
  }
  console.error(
    JSON.stringify({ msg: "unhandled error", request_id: requestId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );
  return detailResponse(500, ERRORS.INTERNAL.message);
};

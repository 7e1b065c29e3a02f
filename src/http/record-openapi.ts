import { z } from "zod";
import { ERRORS, type ErrorCode } from "../domain/errors";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, RECORD_MAX_BODY_BYTES } from "../domain/records";
import { RecordFieldsSchema, RecordPage, StoredRecord } from "./record-schemas";
import { ValidationDetail } from "./schemas";

/**
 * The tenant-record operations of the OpenAPI document, kept apart from the organization
 * operations so each set can change without touching the other.
 */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: "draft-2020-12", unrepresentable: "any", io: "input" });

const ok = (s: z.ZodType, description: string) => ({ description, content: { "application/json": { schema: schema(s) } } });

const detail = { type: "object", properties: { detail: { type: "string" } }, required: ["detail"] };

/** Error responses with, for each status, the exact bodies the Worker sends under it. */
const errors = (...codes: ErrorCode[]) => {
  const statuses = [...new Set(codes.map((code) => ERRORS[code].status))];
  return Object.fromEntries(
    statuses.map((status) => {
      if (status === 422) return ["422", { description: "Validation error", content: { "application/json": { schema: schema(ValidationDetail) } } }];
      const group = codes.filter((code) => ERRORS[code].status === status);
      const examples = Object.fromEntries(group.map((code) => [code, { summary: ERRORS[code].message, value: { detail: ERRORS[code].message } }]));
      return [
        String(status),
        { description: group.map((code) => ERRORS[code].message).join("; "), content: { "application/json": { schema: detail, examples } } },
      ];
    }),
  );
};

const AUTH_ERRORS: ErrorCode[] = ["NOT_AUTHENTICATED", "INVALID_TOKEN", "ORGANIZATION_BUSY", "STORE_UNAVAILABLE"];
const BODY_ERRORS: ErrorCode[] = ["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED"];

const recordBody = {
  required: true,
  description: `A JSON object of at most ${RECORD_MAX_BODY_BYTES / 1024} KiB (the other endpoints allow less).`,
  content: { "application/json": { schema: schema(RecordFieldsSchema) } },
};

const idParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "The record's `id`. Ids of other organizations and ids that are not 24 hexadecimal digits answer 404, like unknown ones.",
  schema: { type: "string" },
  example: "6650f1c2e8b3e4a012345678",
};

const security = [{ bearerAuth: [] }];

export const recordPaths = {
  "/org/records": {
    post: {
      summary: "Store a record in the caller's organization",
      description: "The bearer token decides the organization, and so the collection (`org_<slug>`) the record lives in.",
      security,
      requestBody: recordBody,
      responses: { "201": ok(StoredRecord, "Stored; `Location` names the new record"), ...errors(...AUTH_ERRORS, ...BODY_ERRORS) },
    },
    get: {
      summary: "List the caller's records, a page at a time",
      description: "Records in a stable order (by `id`); following `next_cursor` until it is null returns every record exactly once.",
      security,
      parameters: [
        { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT } },
        { name: "cursor", in: "query", required: false, description: "The `next_cursor` of the previous page", schema: { type: "string" } },
      ],
      responses: { "200": ok(RecordPage, "A page of records"), ...errors(...AUTH_ERRORS, "VALIDATION_FAILED") },
    },
  },
  "/org/records/{id}": {
    get: {
      summary: "Read one record",
      security,
      parameters: [idParameter],
      responses: { "200": ok(StoredRecord, "Found"), ...errors(...AUTH_ERRORS, "RECORD_NOT_FOUND") },
    },
    put: {
      summary: "Replace a record's fields (its `id` and `created_at` stay)",
      security,
      parameters: [idParameter],
      requestBody: recordBody,
      responses: { "200": ok(StoredRecord, "Replaced"), ...errors(...AUTH_ERRORS, "RECORD_NOT_FOUND", ...BODY_ERRORS) },
    },
    delete: {
      summary: "Delete a record",
      security,
      parameters: [idParameter],
      responses: { "204": { description: "Deleted" }, ...errors(...AUTH_ERRORS, "RECORD_NOT_FOUND") },
    },
  },
};

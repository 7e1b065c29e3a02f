import type { ObjectId } from "bson";
import { AppError, type ErrorCode } from "../../domain/kernel/errors";
import { createRecord, deleteRecord, getRecord, listRecords, RECORD_MAX_BODY_BYTES, replaceRecord } from "../../domain/records/records";
import * as z from "../../zod";
import { RecordBody, RecordFieldsSchema, RecordListQuery, RecordPage, recordIdOf, StoredRecord } from "../record-schemas";
import { BODY_ERRORS, defineRoute } from "../route";

/**
 * The token is verified before the request is read (401 first, as FastAPI's security dependencies
 * answer: serve authenticates before the handler runs), and every input is validated before the
 * store is asked, so refusals cost no round trip.
 */

const RecordPath = z.lazy(() =>
  z.object({
    id: z.string().register(
      z.globalRegistry,
      __DOCS__ && {
        description: __DOCS__ && "The record's `id`. Ids of other organizations and ids that are not 24 hexadecimal digits answer 404, like unknown ones.",
        example: "6650f1c2e8b3e4a012345678",
      },
    ),
  }),
);

const idOf = (text: string): ObjectId => {
  const id = recordIdOf(text);
  if (!id) throw new AppError("RECORD_NOT_FOUND");
  return id;
};

/** A record's own address, from the route that reads it: the path is written once. */
const pathOf = (route: { path: string }, id: string) => route.path.replace("{id}", id);

const body = {
  schema: RecordBody,
  documentAs: RecordFieldsSchema,
  maxBytes: RECORD_MAX_BODY_BYTES,
  description: __DOCS__ && `A JSON object of at most ${RECORD_MAX_BODY_BYTES / 1024} KiB (the other endpoints allow less).`,
};

const AUTH_ERRORS: ErrorCode[] = ["NOT_AUTHENTICATED", "INVALID_TOKEN", "ORGANIZATION_SUSPENDED", "ORGANIZATION_BUSY", "STORE_UNAVAILABLE"];

export const createRecordRoute = defineRoute({
  method: "post",
  path: "/org/records",
  permission: "records:write",
  tag: "records",
  summary: __DOCS__ && "Store a record in the caller's organization",
  description: __DOCS__ && "The bearer token decides the organization, and so the collection (`org_<slug>`) the record lives in.",
  auth: "required",
  request: { body },
  responses: { 201: { description: __DOCS__ && "Stored; `Location` names the new record", schema: StoredRecord, verbatim: true } },
  errors: [...AUTH_ERRORS, ...BODY_ERRORS],
  handler: async ({ deps, caller, input }) => {
    const record = await createRecord(deps, caller, await input.body());
    return { status: 201, body: record, headers: { location: pathOf(getRecordRoute, record.id) } };
  },
});

export const listRecordsRoute = defineRoute({
  method: "get",
  path: "/org/records",
  permission: "records:read",
  tag: "records",
  summary: __DOCS__ && "List the caller's records, a page at a time",
  description: __DOCS__ && "Records in a stable order (by `id`); following `next_cursor` until it is null returns every record exactly once.",
  auth: "required",
  request: { query: RecordListQuery, blankQueryIsAbsent: true },
  responses: { 200: { description: __DOCS__ && "A page of records", schema: RecordPage, verbatim: true } },
  errors: [...AUTH_ERRORS, "VALIDATION_FAILED"],
  handler: async ({ deps, caller, input }) => {
    const { limit, cursor } = input.query();
    return { body: await listRecords(deps, caller, { limit, after: cursor }) };
  },
});

export const getRecordRoute = defineRoute({
  method: "get",
  path: "/org/records/{id}",
  permission: "records:read",
  tag: "records",
  summary: __DOCS__ && "Read one record",
  auth: "required",
  request: { path: RecordPath },
  responses: { 200: { description: __DOCS__ && "Found", schema: StoredRecord, verbatim: true } },
  errors: [...AUTH_ERRORS, "RECORD_NOT_FOUND"],
  handler: async ({ deps, caller, input }) => {
    return { body: await getRecord(deps, caller, idOf(input.params().id)) };
  },
});

export const replaceRecordRoute = defineRoute({
  method: "put",
  path: "/org/records/{id}",
  permission: "records:write",
  tag: "records",
  summary: __DOCS__ && "Replace a record's fields (its `id` and `created_at` stay)",
  auth: "required",
  request: { path: RecordPath, body },
  responses: { 200: { description: __DOCS__ && "Replaced", schema: StoredRecord, verbatim: true } },
  errors: [...AUTH_ERRORS, "RECORD_NOT_FOUND", ...BODY_ERRORS],
  handler: async ({ deps, caller, input }) => {
    const id = idOf(input.params().id);
    return { body: await replaceRecord(deps, caller, id, await input.body()) };
  },
});

export const deleteRecordRoute = defineRoute({
  method: "delete",
  path: "/org/records/{id}",
  permission: "records:write",
  tag: "records",
  summary: __DOCS__ && "Delete a record",
  auth: "required",
  request: { path: RecordPath },
  responses: { 204: { description: __DOCS__ && "Deleted" } },
  errors: [...AUTH_ERRORS, "RECORD_NOT_FOUND"],
  handler: async ({ deps, caller, input }) => {
    await deleteRecord(deps, caller, idOf(input.params().id));
    return { status: 204 };
  },
});

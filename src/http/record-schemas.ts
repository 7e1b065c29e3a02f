import { ObjectId } from "bson";
import { decodeCursor, encodeCursor } from "../domain/records/cursor";
import { MAX_RECORD_DEPTH, recordFieldProblems, SERVER_FIELDS } from "../domain/records/fields";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, RECORD_MAX_BODY_BYTES } from "../domain/records/records";
import * as z from "../zod";

/** Request and response schemas of the tenant-record endpoints, beside the ones in schemas.ts. */

const exampleFields = { name: "Widget", price: 9.5, tags: ["blue", "small"], dimensions: { width_cm: 3, height_cm: 4 } };
const exampleId = "6650f1c2e8b3e4a012345678";
const exampleTime = "2026-01-01T00:00:00.000Z";

const isPlainJsonObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** What a record body looks like (for the document); `RecordBody` adds the checks on names. */
export const RecordFieldsSchema = z.lazy(() =>
  z.looseObject({}).register(
    z.globalRegistry,
    __DOCS__ && {
      description:
        `Any JSON object of at most ${RECORD_MAX_BODY_BYTES / 1024} KiB. Refused with 422: ${SERVER_FIELDS.map((f) => `\`${f}\``).join(", ")} at the top level ` +
        `(set by the server), and at any depth names that are empty, start with \`$\`, contain \`.\` or NUL, or are \`__proto__\`, ` +
        `and nesting deeper than ${MAX_RECORD_DEPTH} levels.`,
      example: exampleFields,
    },
  ),
);

/** The field names are checked on the raw parsed JSON, before the object schema copies it. */
export const RecordBody = z.lazy(() =>
  z.pipe(
    z.unknown().check(
      z.superRefine((value, ctx) => {
        if (!isPlainJsonObject(value)) return;
        for (const { path, message } of recordFieldProblems(value)) ctx.addIssue({ code: "custom", path, message });
      }),
    ),
    RecordFieldsSchema,
  ),
);

export const StoredRecord = z.lazy(() =>
  z
    .looseObject({
      id: z.string().register(z.globalRegistry, __DOCS__ && { description: "24 hexadecimal digits" }),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { id: exampleId, ...exampleFields, created_at: exampleTime, updated_at: exampleTime } }),
);

export const RecordPage = z.lazy(() =>
  z
    .object({
      records: z.array(StoredRecord),
      next_cursor: z.nullable(z.string()).register(z.globalRegistry, __DOCS__ && { description: "Pass as `cursor` for the next page; null on the last page" }),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          records: [{ id: exampleId, ...exampleFields, created_at: exampleTime, updated_at: exampleTime }],
          next_cursor: encodeCursor(ObjectId.createFromHexString(exampleId)),
        },
      },
    ),
);

/** A page size in a query string, 1 to `max`. */
const pageLimit = (max: number) =>
  z.pipe(
    z.string(),
    z.transform((text: string, ctx) => {
      if (!/^[0-9]{1,9}$/.test(text)) {
        z.refuse(ctx, "Input should be a valid integer, unable to parse string as an integer");
        return z.NEVER;
      }
      const value = Number(text);
      if (value < 1) z.refuse(ctx, "Input should be greater than or equal to 1");
      if (value > max) z.refuse(ctx, `Input should be less than or equal to ${max}`);
      return value;
    }),
  );

/** A page cursor in a query string, as `decode` reads it (null: not one this service issued). */
export const pageCursor = <T>(decode: (text: string) => T | null) =>
  z.pipe(
    z.string(),
    z.transform((text: string, ctx) => {
      const after = decode(text);
      if (after === null) {
        z.refuse(ctx, "Invalid cursor: pass the next_cursor of a previous page unchanged");
        return z.NEVER;
      }
      return after;
    }),
  );

/**
 * A listing's two query parameters. The document shows what a client sends (an integer, the
 * previous page's cursor); the transforms above are what the Worker makes of them.
 */
export const pageLimitOr = (fallback: number, max = MAX_PAGE_LIMIT) =>
  z._default(pageLimit(max), fallback).register(z.globalRegistry, __DOCS__ && ({ type: "integer", minimum: 1, maximum: max, default: fallback } as never));
export const optionalPageCursor = <T>(decode: (text: string) => T | null) =>
  z.optional(pageCursor(decode)).register(z.globalRegistry, __DOCS__ && { description: "The `next_cursor` of the previous page" });

export const RecordListQuery = z.lazy(() => z.object({ limit: pageLimitOr(DEFAULT_PAGE_LIMIT), cursor: optionalPageCursor(decodeCursor) }));

const HEX_ID = /^[0-9a-fA-F]{24}$/;

/** Record ids are ObjectIds; anything else names no record, so the caller answers 404 as for an unknown one. */
export const recordIdOf = (text: string | undefined): ObjectId | null =>
  text !== undefined && HEX_ID.test(text) ? ObjectId.createFromHexString(text.toLowerCase()) : null;

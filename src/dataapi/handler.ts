import { ACTIONS } from "./actions";
import { createApiKeyMatcher, presentedApiKey } from "./api-key";
import { readBodyText } from "./body";
import { isPlainObject, parseTypedEjson, stringifyEjson, stringifyPlainJson, toJsNumbers } from "./ejson";
import type { Engine } from "./engine";
import { DataApiError } from "./errors";
import { assertNoCodeOperators, assertNoCodeValues, assertSingleCollectionPipeline } from "./forbidden";
import { assertBodyValueBudget } from "./limits";
import { checkCollectionName, checkDatabaseName } from "./names";
import { answerValue, readRequestValue } from "./wire";

/** The largest BSON document MongoDB stores, plus room for the envelope. */
export const DEFAULT_MAX_BODY_BYTES = 17 * 1024 * 1024;

export interface DataApiOptions {
  engine: Engine;
  /** Keys that may call the API. Empty or absent: no key is asked (the Durable Object binding is private). */
  apiKeys?: readonly string[];
  maxBodyBytes?: number;
  /** Restricts what a key can reach: listed databases only, and collection names matching the pattern. */
  access?: { databases?: readonly string[]; collections?: RegExp };
  /** Called with every error that is answered as a 500, so the host can log it. */
  onInternalError?: (error: unknown) => void;
  /** The clock `deadline` is read against; Date.now unless a test passes its own. */
  now?: () => number;
}

const ACTION_PATH = /\/action\/([A-Za-z]+)$/;

const respond = (status: number, body: unknown, ejson: boolean): Response =>
  new Response(ejson ? stringifyEjson(body) : stringifyPlainJson(body), {
    status,
    headers: { "content-type": ejson ? "application/ejson" : "application/json" },
  });

const errorResponse = (error: DataApiError): Response => Response.json({ error: error.message, error_code: error.code }, { status: error.status });

const parseBody = (text: string, contentType: string): Record<string, unknown> => {
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json" && mediaType !== "application/ejson") {
    throw new DataApiError("UnsupportedMediaType", "Content-Type must be application/json or application/ejson");
  }
  let parsed: unknown;
  try {
    // Both media types are read as EJSON: plain JSON is valid EJSON, and the hosted API did the same.
    parsed = parseTypedEjson(text);
  } catch {
    throw new DataApiError("InvalidParameter", "request body is not valid JSON");
  }
  if (!isPlainObject(parsed)) throw new DataApiError("InvalidParameter", "request body must be a JSON object");
  return parsed;
};

/** A text body, counted before it is decoded (see limits.ts). */
const readText = (text: string, contentType: string): Record<string, unknown> => {
  assertBodyValueBudget(text);
  return parseBody(text, contentType);
};

/** The fields that carry the caller's data: they keep their BSON types; every other field is an option. */
const DATA_FIELDS = new Set(["filter", "document", "documents", "update", "replacement", "pipeline"]);

const withPlainOptions = (body: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [k, DATA_FIELDS.has(k) ? v : toJsNumbers(v)]));

/**
 * The optional absolute deadline of a request, in milliseconds since the Unix epoch. A caller
 * that fences writes with a lease sets it to the lease's end, so a request delayed in transit is
 * refused instead of applied after the lease expired.
 */
const readDeadline = (value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new DataApiError("InvalidParameter", "deadline must be a number (milliseconds since the Unix epoch)");
  }
  return value;
};

const requireString = (body: Record<string, unknown>, field: string): string => {
  const value = body[field];
  if (value === undefined) throw new DataApiError("MissingParameter", `${field} is required`);
  if (typeof value !== "string" || value === "") throw new DataApiError("InvalidParameter", `${field} must be a non-empty string`);
  return value;
};

/** An action's answer without HTTP: the status a request would get and its body (EJSON text or a structured-clone value, or the error as JSON). */
export interface ActionAnswer {
  status: number;
  body: string | Record<string, unknown>;
}

/**
 * The server side of the Data API protocol, written once for every engine: it authenticates,
 * parses and validates an action, runs it on the engine and maps errors to the wire format.
 */
export const createDataApiHandler = (options: DataApiOptions) => {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const matchesApiKey = createApiKeyMatcher(options.apiKeys ?? []);
  const now = options.now ?? Date.now;

  const checkAccess = (database: string, collection: string | undefined): void => {
    const { databases, collections } = options.access ?? {};
    if (databases && !databases.includes(database)) throw new DataApiError("Forbidden", "this key cannot reach that database");
    if (collection !== undefined && collections && !collections.test(collection)) {
      throw new DataApiError("Forbidden", "this key cannot reach that collection");
    }
  };

  /** A key restricted to some collections does not learn the names of the others either. */
  const visibleCollections = (result: unknown): unknown => {
    const pattern = options.access?.collections;
    if (!pattern) return result;
    const { collections } = result as { collections: { name: string }[] };
    return { collections: collections.filter((c) => pattern.test(c.name)) };
  };

  /** One action from its name and a reader of its body: everything after the transport. */
  const run = async (name: string | undefined, read: () => Record<string, unknown>): Promise<unknown> => {
    const action = name && Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
    if (!action) throw new DataApiError("ActionNotFound", "unknown action");
    const body = read();
    requireString(body, "dataSource");
    const database = requireString(body, "database");
    checkDatabaseName(database);
    const collection = action.needsCollection === false ? undefined : requireString(body, "collection");
    if (collection !== undefined) checkCollectionName(database, collection);
    checkAccess(database, collection);
    assertNoCodeOperators(body);
    assertNoCodeValues(body);
    if (name === "aggregate") assertSingleCollectionPipeline(body.pipeline);

    const { dataSource: _ds, database: _db, collection: _coll, deadline: rawDeadline, ...rest } = body;
    // Read as a plain number whichever EJSON number type carried it.
    const deadline = readDeadline(toJsNumbers(rawDeadline));
    const parsed = action.schema.safeParse(withPlainOptions(rest));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw new DataApiError("InvalidParameter", `${where}${issue?.message ?? "invalid request"}`);
    }
    // Every other collection an action reaches is checked as the request's own: a rename's target, a
    // fence's guard now, and the collection a guard names as the action runs (`ns.admit`).
    const admit = (name: string) => {
      checkCollectionName(database, name);
      checkAccess(database, name);
    };
    if (typeof rest.to === "string") admit(rest.to);
    const fence = (parsed.data as { fence?: { collection: string } }).fence;
    if (fence) admit(fence.collection);
    // Checked last, right before the work starts: a late request must change nothing.
    if (deadline !== undefined && now() >= deadline) throw new DataApiError("DeadlineExceeded", "the request's deadline has passed");
    const ns = { database, collection: collection ?? "", admit, ...(deadline === undefined ? {} : { deadline }) };
    const result = await action.run(options.engine, ns, parsed.data as never);
    return name === "listCollections" ? visibleCollections(result) : result;
  };

  const handle = async (request: Request, ejsonOut: boolean): Promise<Response> => {
    if (options.apiKeys?.length) {
      const key = presentedApiKey(request.headers);
      if (!key || !(await matchesApiKey(key))) throw new DataApiError("InvalidSession", "invalid or missing API key");
    }
    const name = new URL(request.url).pathname.match(ACTION_PATH)?.[1];
    if (!name || !Object.hasOwn(ACTIONS, name)) throw new DataApiError("ActionNotFound", "unknown action");
    if (request.method !== "POST") throw new DataApiError("InvalidParameter", "actions are called with POST");
    const text = await readBodyText(request, maxBodyBytes);
    return respond(200, await run(name, () => readText(text, request.headers.get("content-type") ?? "")), ejsonOut);
  };

  /**
   * The same action without HTTP, for a caller in the same runtime (the Worker calling its Durable
   * Object over RPC), with the status and error body a request would get. Canonical EJSON text in
   * gets EJSON text out; a structured-clone value in (see wire.ts) gets one out, or EJSON text
   * for an answer that one would not carry alike. Only for a store that asks no key: a
   * key-protected store is reached over HTTP.
   */
  const action = async (name: string, body: string | Record<string, unknown>): Promise<ActionAnswer> => {
    try {
      if (options.apiKeys?.length) throw new DataApiError("InvalidSession", "invalid or missing API key");
      if (typeof body !== "string") {
        // The Worker's own value: its size was bounded where it was built, and no text is decoded.
        const result = await run(name, () => readRequestValue(body));
        return { status: 200, body: answerValue(result) ?? stringifyEjson(result) };
      }
      // A UTF-16 length three times within the limit is within it in UTF-8 too; only longer text is measured.
      if (body.length * 3 > maxBodyBytes && new TextEncoder().encode(body).byteLength > maxBodyBytes) {
        throw new DataApiError("PayloadTooLarge", `request body exceeds ${maxBodyBytes} bytes`);
      }
      return { status: 200, body: stringifyEjson(await run(name, () => readText(body, "application/ejson"))) };
    } catch (error) {
      const failure = asDataApiError(error);
      return { status: failure.status, body: JSON.stringify({ error: failure.message, error_code: failure.code }) };
    }
  };

  const asDataApiError = (error: unknown): DataApiError => {
    if (error instanceof DataApiError) return error;
    options.onInternalError?.(error);
    return new DataApiError("InternalServerError", "internal server error");
  };

  const fetchHandler = async (request: Request): Promise<Response> => {
    const ejsonOut = (request.headers.get("accept") ?? "").toLowerCase().includes("application/ejson");
    try {
      return await handle(request, ejsonOut);
    } catch (error) {
      return errorResponse(asDataApiError(error));
    }
  };
  return Object.assign(fetchHandler, { action });
};

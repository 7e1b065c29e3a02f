import { parseEjson, stringifyEjson } from "../dataapi/ejson";
import type { Doc, IndexSpec, UpdateResult } from "../dataapi/engine";
import { isDataErrorCode } from "../dataapi/errors";
import { readAnswerValue, requestValue } from "../dataapi/wire";
import { DataError, DataUnavailableError, DuplicateKeyError } from "./errors";

export type Fetcher = (request: Request) => Promise<Response>;

/**
 * An action sent without HTTP (the Worker's RPC call into its Durable Object): the action's name
 * and its body, as a structured-clone value or canonical EJSON text (see dataapi/wire.ts), in;
 * the status and body a request would have got out (a value answers a value, unless the object chose text).
 */
export type ActionCaller = (action: string, body: string | Doc) => Promise<{ status: number; body: string | Doc }>;

export interface DataClientOptions {
  fetch: Fetcher;
  /** When set, actions go this way instead of `fetch`: same protocol, same answers, no HTTP. */
  rpc?: ActionCaller;
  /** Base URL the `/action/<name>` paths are appended to. */
  baseUrl: string;
  apiKey?: string;
  dataSource: string;
  database: string;
  /** Per-call deadline; a store that does not answer in time is unavailable, not a hang. */
  timeoutMs?: number;
  /** Extra attempts for calls that are safe to repeat (reads and idempotent collection management). */
  retries?: number;
  /** Waits between attempts; passed in so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

export interface FindOptions {
  projection?: Doc;
  sort?: Record<string, 1 | -1>;
  limit?: number;
  skip?: number;
}

const SAFE_TO_REPEAT = new Set([
  "findOne",
  "find",
  "findFenced",
  "aggregate",
  "countDocuments",
  "listCollections",
  "createCollection",
  "dropCollection",
  "createIndexes",
  "dropIndexes",
]);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The Worker's only way to its data: Data API v1 actions over `fetch`, EJSON both ways. Whether
 * the fetch reaches the embedded Durable Object or the MongoDB gateway is the caller's choice.
 * It counts its round trips so each request can report (and tests can assert) how many it made.
 */
export class DataClient {
  roundTrips = 0;

  constructor(private readonly options: DataClientOptions) {}

  /**
   * One collection's actions. With a `deadline`, every call carries it to the store, which refuses
   * to begin an action after it, and gives up waiting for the answer then too.
   */
  collection<T extends Doc = Doc>(name: string, options: { deadline?: Date } = {}): Collection<T> {
    return new Collection<T>(this, name, options.deadline);
  }

  /**
   * Finds in the collection a document of `fence.collection` names in its `fence.target` field,
   * if that document matches `fence.filter` (`findFenced`): the documents, or null when none matched.
   */
  async findFenced<T extends Doc = Doc>(
    fence: { collection: string; filter: Doc; target: string },
    filter: Doc,
    options: FindOptions = {},
  ): Promise<T[] | null> {
    return (await this.call<{ documents: T[] | null }>("findFenced", { fence, filter, ...options })).documents;
  }

  /**
   * Inserts `document` into the collection a document of `fence.collection` names in its
   * `fence.target` field, if that document matches `fence.filter` as the insert applies
   * (`insertOneFenced`): the new id, or null when none matched. One call, by `deadline`.
   */
  async insertFenced(fence: { collection: string; filter: Doc; target: string; lease: string }, document: Doc, deadline: Date): Promise<unknown | null> {
    return (await this.call<{ insertedId: unknown | null }>("insertOneFenced", { fence, document }, undefined, deadline)).insertedId;
  }

  async listCollections(filter: Doc = {}): Promise<{ name: string }[]> {
    const answer = await this.call<{ collections: { name: string }[] }>("listCollections", { filter });
    return answer.collections;
  }

  /** The bytes the database takes in storage, or null when the store cannot tell. */
  async storageBytes(): Promise<number | null> {
    return (await this.call<{ storageBytes: number | null }>("dbStats", {})).storageBytes;
  }

  /** Sends one action; maps protocol errors to typed errors and retries only what is safe to repeat. */
  async call<R>(action: string, body: Doc, collection?: string, deadline?: Date): Promise<R> {
    const attempts = 1 + (SAFE_TO_REPEAT.has(action) ? (this.options.retries ?? 2) : 0);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<R>(action, deadline ? { ...body, deadline: deadline.getTime() } : body, collection, deadline);
      } catch (error) {
        if (!(error instanceof DataUnavailableError) || attempt >= attempts) throw error;
        // Full jitter, so that many isolates retrying a recovering store do not arrive together.
        await (this.options.sleep ?? defaultSleep)(Math.random() * 50 * 2 ** attempt);
      }
    }
  }

  private async once<R>(action: string, body: Doc, collection?: string, deadline?: Date): Promise<R> {
    const { dataSource, database } = this.options;
    const timeoutMs = Math.min(this.options.timeoutMs ?? 10_000, deadline ? deadline.getTime() - Date.now() : Number.POSITIVE_INFINITY);
    if (timeoutMs <= 0) throw new DataUnavailableError("data call deadline passed before it was sent");
    const envelope = { dataSource, database, ...(collection === undefined ? {} : { collection }), ...body };
    this.roundTrips++;
    const { status, text } = await this.send(action, envelope, timeoutMs);
    if (status >= 500) throw new DataUnavailableError(`data store answered ${status}`);
    let payload: unknown;
    try {
      payload = typeof text === "string" ? parseEjson(text) : readAnswerValue(text);
    } catch {
      throw new DataUnavailableError("data store answered with a body that is not EJSON");
    }
    if (status < 300) return payload as R;
    const { error_code: code, error: message } = (payload ?? {}) as { error_code?: unknown; error?: unknown };
    const text_ = typeof message === "string" ? message : `status ${status}`;
    if (code === "DuplicateKey") throw new DuplicateKeyError(text_);
    throw new DataError(isDataErrorCode(code) ? code : "InternalServerError", text_);
  }

  /**
   * One action on the wire, given up after `timeoutMs`; a store that cannot be reached is
   * unavailable. Over RPC as a structured-clone value where one carries the body alike, else as EJSON text.
   */
  private async send(action: string, envelope: Doc, timeoutMs: number): Promise<{ status: number; text: string | Doc }> {
    const { rpc, baseUrl, apiKey } = this.options;
    const value = rpc ? requestValue(envelope) : undefined;
    const text = value ? undefined : stringifyEjson(envelope);
    try {
      if (rpc) {
        const answer = await withinDeadline(rpc(action, value ?? (text as string)), timeoutMs);
        return { status: answer.status, text: answer.body };
      }
      const headers: Record<string, string> = { "content-type": "application/ejson", accept: "application/ejson" };
      if (apiKey) headers.apiKey = apiKey;
      const abort = new AbortController();
      const request = new Request(`${baseUrl.replace(/\/$/, "")}/action/${action}`, { method: "POST", headers, body: text, signal: abort.signal });
      // The deadline covers the answer's body too, and stops the fetch when it passes.
      const answered = this.options.fetch(request).then(async (response) => ({ status: response.status, bytes: await response.arrayBuffer() }));
      const { status, bytes } = await withinDeadline(answered, timeoutMs, (reason) => abort.abort(reason));
      // EJSON is UTF-8 JSON; decode the bytes ourselves (the runtime only trusts text/* for .text()).
      return { status, text: new TextDecoder().decode(bytes) };
    } catch (error) {
      throw new DataUnavailableError(`data store unreachable: ${error instanceof Error ? error.name : "error"}`);
    }
  }
}

/**
 * `answer`, or a TimeoutError once `timeoutMs` pass first. One timer, cleared as soon as the answer
 * comes: AbortSignal.timeout would keep one alive for the whole deadline after every call, and the
 * runtime caps how many may be pending at once.
 */
const withinDeadline = <T>(answer: Promise<T>, timeoutMs: number, onTimeout?: (reason: unknown) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const reason = new DOMException("data call timed out", "TimeoutError");
      onTimeout?.(reason);
      reject(reason);
    }, timeoutMs);
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

/** One collection's actions, named as the MongoDB driver names them. */
export class Collection<T extends Doc = Doc> {
  constructor(
    private readonly client: DataClient,
    readonly name: string,
    private readonly deadline?: Date,
  ) {}

  private call<R>(action: string, body: Doc): Promise<R> {
    return this.client.call<R>(action, body, this.name, this.deadline);
  }

  async findOne(filter: Doc, options: Pick<FindOptions, "projection" | "sort"> = {}): Promise<T | null> {
    return (await this.call<{ document: T | null }>("findOne", { filter, ...options })).document;
  }

  async find(filter: Doc, options: FindOptions = {}): Promise<T[]> {
    return (await this.call<{ documents: T[] }>("find", { filter, ...options })).documents;
  }

  async insertOne(document: T): Promise<unknown> {
    return (await this.call<{ insertedId: unknown }>("insertOne", { document })).insertedId;
  }

  async insertMany(documents: T[]): Promise<unknown[]> {
    return (await this.call<{ insertedIds: unknown[] }>("insertMany", { documents })).insertedIds;
  }

  updateOne(filter: Doc, update: Doc, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    return this.call<UpdateResult>("updateOne", { filter, update, ...options });
  }

  updateMany(filter: Doc, update: Doc): Promise<UpdateResult> {
    return this.call<UpdateResult>("updateMany", { filter, update });
  }

  replaceOne(filter: Doc, replacement: Doc): Promise<UpdateResult> {
    return this.call<UpdateResult>("replaceOne", { filter, replacement });
  }

  async findOneAndUpdate(filter: Doc, update: Doc, options: { upsert?: boolean; returnNewDocument?: boolean; projection?: Doc } = {}): Promise<T | null> {
    return (await this.call<{ document: T | null }>("findOneAndUpdate", { filter, update, ...options })).document;
  }

  async deleteOne(filter: Doc): Promise<number> {
    return (await this.call<{ deletedCount: number }>("deleteOne", { filter })).deletedCount;
  }

  async deleteMany(filter: Doc): Promise<number> {
    return (await this.call<{ deletedCount: number }>("deleteMany", { filter })).deletedCount;
  }

  async countDocuments(filter: Doc = {}): Promise<number> {
    return (await this.call<{ count: number }>("countDocuments", { filter })).count;
  }

  async aggregate<R = Doc>(pipeline: Doc[]): Promise<R[]> {
    return (await this.call<{ documents: R[] }>("aggregate", { pipeline })).documents;
  }

  async create(): Promise<void> {
    await this.call("createCollection", {});
  }

  async drop(): Promise<boolean> {
    return (await this.call<{ dropped: boolean }>("dropCollection", {})).dropped;
  }

  async renameTo(to: string, options: { dropTarget?: boolean } = {}): Promise<void> {
    await this.call("renameCollection", { to, ...options });
  }

  async createIndexes(indexes: IndexSpec[]): Promise<void> {
    await this.call("createIndexes", { indexes });
  }

  /**
   * Drops one index by name; true when it existed. A missing index or collection is false, not an
   * error, so a step that drops an index can be repeated (a retried call whose first answer was
   * lost also says false: the index is gone either way).
   */
  async dropIndex(name: string): Promise<boolean> {
    return (await this.call<{ dropped: boolean }>("dropIndexes", { name })).dropped;
  }
}

import { Validator } from "@cfworker/json-schema";
import { call } from "../../helpers";

export interface Media {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
export interface Operation {
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}
export interface Document {
  openapi: string;
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
}

/** The document as a client downloads it: every check below reads this, never the declarations it comes from. */
const downloadDocument = async (): Promise<Document> => {
  const res = await call("/openapi.json");
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return (await res.json()) as Document;
};

let downloaded: Promise<Document> | undefined;

/**
 * The document, downloaded once per test file: the files here check thousands of answers against
 * it, and a download and a parse of its 300 KB per answer were a sixth of their time.
 */
export const loadDocument = (): Promise<Document> => (downloaded ??= downloadDocument());

export const operationOf = (doc: Document, method: string, path: string): Operation => {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  return op;
};

/** One validator per documented schema: building one walks the whole schema, which was another sixth of the files' time. */
const validators = new WeakMap<object, Validator>();

/** Problems of `value` against the documented JSON Schema of `status` (empty when it conforms). */
export const schemaProblems = (op: Operation, status: number, value: unknown): string[] => {
  const schema = op.responses[String(status)]?.content?.["application/json"]?.schema;
  if (!schema) return [`no JSON schema documented for ${status}`];
  let validator = validators.get(schema);
  if (!validator) {
    validator = new Validator(schema as never, "2020-12", false);
    validators.set(schema, validator);
  }
  const result = validator.validate(value);
  return result.errors.map((error) => `${error.instanceLocation}: ${error.error}`);
};

/** Every body the document gives as an example of `status`. */
export const documentedExamples = (op: Operation, status: number): unknown[] => {
  const media = op.responses[String(status)]?.content?.["application/json"];
  return [...Object.values(media?.examples ?? {}).map((example) => example.value), ...(media?.example !== undefined ? [media.example] : [])];
};

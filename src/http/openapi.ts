import { ERRORS, type ErrorCode } from "../domain/kernel/errors";
import * as z from "../zod";
import type { ResponseSpec, Route } from "./route";
import { TAGS } from "./route";
import { ROUTES } from "./routes";
import { Detail, ValidationDetail } from "./schemas";

type JsonSchema = Record<string, unknown>;

const jsonSchema = (schema: z.ZodMiniType, io: "input" | "output"): JsonSchema => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any", io }) as JsonSchema;
  return rest;
};

/** `{"detail": …}` without the schema's own example: each error response names its real bodies instead. */
const detailSchema = (): JsonSchema => {
  const { example: _generic, ...rest } = jsonSchema(Detail, "output");
  return rest;
};

const validationResponse = () => ({
  description: "Validation error",
  content: {
    "application/json": {
      schema: jsonSchema(ValidationDetail, "output"),
      example: { detail: [{ loc: ["body", "email"], msg: "value is not a valid email address", type: "value_error" }] },
    },
  },
});

const detailExamples = (codes: ErrorCode[]) =>
  Object.fromEntries(codes.map((code) => [code, { summary: ERRORS[code].message, value: { detail: ERRORS[code].message } }]));

/** A 422 is a validation list; a name the store refuses is a 422 with a plain `detail` message. */
const unprocessableResponse = (codes: ErrorCode[]) => {
  const refusals = codes.filter((code) => code !== "VALIDATION_FAILED");
  if (refusals.length === 0) return validationResponse();
  const { example, ...media } = validationResponse().content["application/json"];
  return {
    description: ["Validation error", ...refusals.map((code) => ERRORS[code].message)].join("; "),
    content: {
      "application/json": {
        schema: { anyOf: [media.schema, detailSchema()] },
        examples: __DOCS__ && { VALIDATION_FAILED: { summary: "Validation error", value: example }, ...detailExamples(refusals) },
      },
    },
  };
};

/**
 * Error responses by status, each with the exact bodies the Worker sends under it (several codes
 * share a status, e.g. the 409s). A 422 is a validation list, whichever code raised it.
 */
const errorResponses = (codes: ErrorCode[]) => {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => {
      if (status === 422) return ["422", unprocessableResponse(group)];
      const description = group.map((code) => ERRORS[code].message).join("; ");
      return [String(status), { description, content: { "application/json": { schema: detailSchema(), examples: detailExamples(group) } } }];
    }),
  );
};

const successResponse = ({ description, schema, contentType, examples }: ResponseSpec) => {
  if (!schema) return contentType ? { description, content: { [contentType]: {} } } : { description };
  const media = { schema: jsonSchema(schema, "output"), ...(examples ? { examples } : {}) };
  return { description, content: { [contentType ?? "application/json"]: media } };
};

/** A zod object of query, path or header fields as OpenAPI parameters. */
const parameters = (where: "query" | "path" | "header", schema: z.ZodMiniType | undefined) => {
  if (!schema) return [];
  const { properties = {}, required = [] } = jsonSchema(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(properties).map(([name, property]) => {
    const { description, example, ...rest } = property;
    return {
      name,
      in: where,
      required: where === "path" || required.includes(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(example !== undefined ? { example } : {}),
    };
  });
};

const SECURITY = { required: [{ bearerAuth: [] }], optional: [{}, { bearerAuth: [] }], platform: [{ platformKey: [] }] };

const operation = (route: Route) => {
  const request = route.request ?? {};
  const params = [...parameters("path", request.path), ...parameters("query", request.query), ...parameters("header", request.headers)];
  const successes = Object.entries(route.responses).map(([status, response]) => [status, successResponse(response)]);
  return {
    tags: [TAGS[route.tag].name],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.auth ? { security: SECURITY[route.auth] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(request.body
      ? {
          requestBody: {
            required: true,
            ...(request.body.description ? { description: request.body.description } : {}),
            content: { "application/json": { schema: jsonSchema(request.body.documentAs ?? request.body.schema, "input") } },
          },
        }
      : {}),
    responses: { ...Object.fromEntries(successes), ...errorResponses(route.errors) },
  };
};

/** The OpenAPI 3.1 document, generated from the route declarations and the zod schemas that validate requests. */
export const openApiDocument = (routes: Route[]) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes.filter((r) => !r.internal)) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Organization Management Service",
      version: "1.0.0",
      description: "Multi-tenant organizations, each with an admin and its own MongoDB collection. Log in at /admin/login and use the token with “Authorize”.",
    },
    tags: Object.values(TAGS),
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        platformKey: {
          type: "http",
          scheme: "bearer",
          description: "An operator key's secret from `PLATFORM_API_KEYS` (`<key id>:<read|write>:<secret>`), for the Platform operations only",
        },
      },
    },
    paths,
  };
};

/**
 * The document of every declared route. It is built ahead of time, not in the Worker: `npm run
 * client:generate` writes it beside the typed client and the docs assets step copies it to
 * public/openapi.json, which /openapi.json serves. Generating it at run time would put zod's JSON
 * Schema converter (a fifth of zod) into every isolate for a document that only changes with the code.
 */
export const apiDocument = () => openApiDocument(ROUTES);

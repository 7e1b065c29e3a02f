import { z } from "zod";
import { ERRORS, type ErrorCode } from "../domain/errors";
import { recordPaths } from "./record-openapi";
import {
  CreatedOrganization,
  CreateOrganizationBody,
  Detail,
  LoginBody,
  OrganizationMetadata,
  TokenResponse,
  UpdateOrganizationBody,
  ValidationDetail,
} from "./schemas";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: "draft-2020-12", unrepresentable: "any", io: "input" });

const json = (s: z.ZodType, description: string) => ({ description, content: { "application/json": { schema: schema(s) } } });

/** `{"detail": …}` without the schema's own example: each response below names its real bodies instead. */
const detailSchema = () => {
  const { example: _generic, ...rest } = schema(Detail);
  return rest;
};

const detailResponse = (description: string, examples: Record<string, { summary: string; value: unknown }>) => ({
  description,
  content: { "application/json": { schema: detailSchema(), examples } },
});

const validationResponse = {
  description: "Validation error",
  content: {
    "application/json": {
      schema: schema(ValidationDetail),
      example: { detail: [{ loc: ["body", "email"], msg: "value is not a valid email address", type: "value_error" }] },
    },
  },
};

/**
 * Error responses named by their registry codes, so every example is a body the Worker really
 * sends with that status (several codes share a status, e.g. the 409s).
 */
const errors = (...codes: ErrorCode[]) => {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const entry = (status: number, group: ErrorCode[]) => {
    if (status === 422) return validationResponse;
    const examples = Object.fromEntries(group.map((code) => [code, { summary: ERRORS[code].message, value: { detail: ERRORS[code].message } }]));
    return detailResponse(group.map((code) => ERRORS[code].message).join("; "), examples);
  };
  return Object.fromEntries([...byStatus].map(([status, group]) => [String(status), entry(status, group)]));
};

const nameParameter = { name: "organization_name", in: "query", required: true, schema: { type: "string" }, example: "TestOrg" };

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export const openApiDocument = () => ({
  openapi: "3.1.0",
  info: {
    title: "Organization Management Service",
    version: "1.0.0",
    description: "Multi-tenant organizations, each with an admin and its own MongoDB collection. Log in at /admin/login and use the token with “Authorize”.",
  },
  components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
  paths: {
    "/org/create": {
      post: {
        summary: "Create an organization, its admin and its tenant collection",
        requestBody: { required: true, content: { "application/json": { schema: schema(CreateOrganizationBody) } } },
        responses: {
          "200": json(CreatedOrganization, "Created"),
          ...errors("ORGANIZATION_EXISTS", "ADMIN_EMAIL_EXISTS", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED", "STORE_UNAVAILABLE"),
        },
      },
    },
    "/org/get": {
      get: {
        summary: "Organization metadata (the admin e-mail only for its own admin)",
        parameters: [nameParameter],
        security: [{}, { bearerAuth: [] }],
        responses: { "200": json(OrganizationMetadata, "Found"), ...errors("ORGANIZATION_NOT_FOUND", "VALIDATION_FAILED", "STORE_UNAVAILABLE") },
      },
    },
    "/org/update": {
      put: {
        summary: "Rename an organization; its tenant data moves with it",
        security: [{}, { bearerAuth: [] }],
        requestBody: { required: true, content: { "application/json": { schema: schema(UpdateOrganizationBody) } } },
        responses: {
          "200": json(OrganizationMetadata, "Renamed"),
          ...errors(
            "INVALID_CREDENTIALS",
            "INVALID_TOKEN",
            "FORBIDDEN",
            "ORGANIZATION_NOT_FOUND",
            "ORGANIZATION_EXISTS",
            "ORGANIZATION_BUSY",
            "COLLECTION_EXISTS",
            "PAYLOAD_TOO_LARGE",
            "UNSUPPORTED_MEDIA_TYPE",
            "VALIDATION_FAILED",
            "STORE_UNAVAILABLE",
          ),
        },
      },
    },
    "/org/delete": {
      delete: {
        summary: "Delete an organization, its admin and its tenant collection",
        security: [{ bearerAuth: [] }],
        parameters: [nameParameter, { name: "x-admin-email", in: "header", required: false, schema: { type: "string" } }],
        responses: {
          "200": detailResponse("Deleted", { deleted: { summary: "Deleted", value: { detail: "deleted" } } }),
          ...errors(
            "NOT_AUTHENTICATED",
            "INVALID_TOKEN",
            "FORBIDDEN",
            "ADMIN_EMAIL_MISMATCH",
            "ORGANIZATION_NOT_FOUND",
            "ORGANIZATION_BUSY",
            "VALIDATION_FAILED",
            "STORE_UNAVAILABLE",
          ),
        },
      },
    },
    "/admin/login": {
      post: {
        summary: "Log an admin in and receive a bearer token",
        requestBody: { required: true, content: { "application/json": { schema: schema(LoginBody) } } },
        responses: {
          "200": json(TokenResponse, "Logged in"),
          ...errors("INVALID_CREDENTIALS", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED", "STORE_UNAVAILABLE"),
        },
      },
    },
    ...recordPaths,
  },
});

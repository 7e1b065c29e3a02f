import { z } from "zod";
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

const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), status === 422 ? json(ValidationDetail, "Validation error") : json(Detail, "Error")]));

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
        responses: { "200": json(CreatedOrganization, "Created"), ...errors(409, 413, 415, 422) },
      },
    },
    "/org/get": {
      get: {
        summary: "Organization metadata (the admin e-mail only for its own admin)",
        parameters: [nameParameter],
        security: [{}, { bearerAuth: [] }],
        responses: { "200": json(OrganizationMetadata, "Found"), ...errors(404, 422) },
      },
    },
    "/org/update": {
      put: {
        summary: "Rename an organization; its tenant data moves with it",
        security: [{}, { bearerAuth: [] }],
        requestBody: { required: true, content: { "application/json": { schema: schema(UpdateOrganizationBody) } } },
        responses: { "200": json(OrganizationMetadata, "Renamed"), ...errors(401, 403, 404, 409, 413, 415, 422) },
      },
    },
    "/org/delete": {
      delete: {
        summary: "Delete an organization, its admin and its tenant collection",
        security: [{ bearerAuth: [] }],
        parameters: [nameParameter, { name: "x-admin-email", in: "header", required: false, schema: { type: "string" } }],
        responses: { "200": json(Detail, "Deleted"), ...errors(401, 403, 404, 409, 422) },
      },
    },
    "/admin/login": {
      post: {
        summary: "Log an admin in and receive a bearer token",
        requestBody: { required: true, content: { "application/json": { schema: schema(LoginBody) } } },
        responses: { "200": json(TokenResponse, "Logged in"), ...errors(401, 413, 415, 422) },
      },
    },
  },
});

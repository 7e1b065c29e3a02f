import { describe, expect, it } from "vitest";
import { apiDocument } from "../../src/http/openapi";
import { call, postJson, putJson } from "../helpers";

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  minLength?: number;
  maxLength?: number;
  format?: string;
  example?: unknown;
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; example?: unknown }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema; example?: unknown; examples?: Record<string, { value: unknown }> }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, string>> };
}

const loadDocument = async (): Promise<Document> => {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return (await res.json()) as Document;
};

const operation = (doc: Document, path: string, method: string): Operation => {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  return op;
};

const requestSchema = (doc: Document, path: string, method: string): JsonSchema => {
  const schema = operation(doc, path, method).requestBody?.content["application/json"]?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} has no JSON request body`);
  return schema;
};

const okExample = (doc: Document, path: string, method: string): unknown =>
  operation(doc, path, method).responses["200"]?.content?.["application/json"]?.schema.example;

const detailOf = async (res: Response) => ((await res.json()) as { detail: { loc: unknown[]; type: string }[] }).detail;

/** The operations of the seed contract, which the document must describe. */
const CONTRACT = [
  ["/org/create", "post"],
  ["/org/get", "get"],
  ["/org/update", "put"],
  ["/org/delete", "delete"],
  ["/admin/login", "post"],
] as const;

describe("/openapi.json", () => {
  it("is the document of today's route declarations, not a stale copy", async () => {
    // The Worker serves a file generated before the build (`npm run client:generate`): a route
    // changed without regenerating it must fail here, not only in CI's freshness check.
    expect(await loadDocument()).toEqual(JSON.parse(JSON.stringify(apiDocument())));
  });

  it("is OpenAPI 3.1 with the five operations of the contract", async () => {
    const doc = await loadDocument();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    // Other operations may join the document; these five are the contract's and must stay.
    expect(listed).toEqual(expect.arrayContaining(CONTRACT.map(([path, method]) => `${method} ${path}`)));
  });

  it("declares the bearer scheme: required for delete, optional for get, update and create (a signed-in user creating another organization), absent for login", async () => {
    const doc = await loadDocument();
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(operation(doc, "/org/delete", "delete").security).toEqual([{ bearerAuth: [] }]);
    for (const [path, method] of [
      ["/org/get", "get"],
      ["/org/update", "put"],
      ["/org/create", "post"],
    ] as const) {
      expect(operation(doc, path, method).security).toEqual([{}, { bearerAuth: [] }]);
    }
    expect(operation(doc, "/admin/login", "post").security).toBeUndefined();
  });

  it("gives the contract's own examples", async () => {
    const doc = await loadDocument();
    expect(requestSchema(doc, "/org/create", "post").example).toEqual({ organization_name: "TestOrg", email: "admin@testorg.com", password: "Test1234" });
    expect(okExample(doc, "/org/create", "post")).toEqual({ organization_name: "TestOrg", collection_name: "org_testorg", admin_email: "admin@testorg.com" });
    expect(requestSchema(doc, "/admin/login", "post").example).toEqual({ email: "admin@testorg.com", password: "Test1234" });
    expect(requestSchema(doc, "/org/update", "put").example).toEqual({
      organization_name: "TestOrg",
      new_organization_name: "TestOrgNew",
      email: "admin@testorg.com",
      password: "Test1234",
    });
    expect(okExample(doc, "/org/get", "get")).toMatchObject({ organization_name: "TestOrg", collection_name: "org_testorg" });
    expect(operation(doc, "/org/delete", "delete").responses["200"]?.content?.["application/json"]?.examples).toEqual({
      deleted: { summary: "Deleted", value: { detail: "deleted" } },
    });
  });

  it("has examples the Worker accepts and answers as documented", async () => {
    const doc = await loadDocument();
    const created = await postJson("/org/create", requestSchema(doc, "/org/create", "post").example);
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual(okExample(doc, "/org/create", "post"));

    const login = await postJson("/admin/login", requestSchema(doc, "/admin/login", "post").example);
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };

    const found = await call("/org/get?organization_name=TestOrg");
    expect(found.status).toBe(200);
    expect(Object.keys((await found.json()) as object).sort()).toEqual(Object.keys(okExample(doc, "/org/get", "get") as object).sort());

    // The example names stay free for whoever runs the suite next against a persistent store.
    const deleted = await call("/org/delete?organization_name=TestOrg", { method: "DELETE", headers: { authorization: `Bearer ${access_token}` } });
    expect(deleted.status).toBe(200);
  });
});

describe("the documented request schemas reject what the Worker rejects", () => {
  const BODIES = [
    ["/org/create", "post"],
    ["/org/update", "put"],
    ["/admin/login", "post"],
  ] as const;
  const send = (path: string, method: string, body: unknown) => (method === "put" ? putJson(path, body) : postJson(path, body));

  it.each(BODIES)("%s forbids extra fields, as the Worker does", async (path, method) => {
    const schema = requestSchema(await loadDocument(), path, method);
    expect(schema.additionalProperties).toBe(false);
    const res = await send(path, method, { ...(schema.example as object), is_admin: true });
    expect(res.status).toBe(422);
    expect(await detailOf(res)).toContainEqual(expect.objectContaining({ loc: ["body", "is_admin"], type: "extra_forbidden" }));
  });

  it.each(BODIES)("%s requires exactly the fields the Worker reports missing", async (path, method) => {
    const schema = requestSchema(await loadDocument(), path, method);
    const res = await send(path, method, {});
    expect(res.status).toBe(422);
    const missing = (await detailOf(res)).filter((issue) => issue.type === "missing").map((issue) => issue.loc[1]);
    expect(missing.sort()).toEqual([...(schema.required ?? [])].sort());
  });

  it("the create body's length and format limits are the Worker's", async () => {
    const schema = requestSchema(await loadDocument(), "/org/create", "post");
    const base = schema.example as Record<string, string>;
    const probes: [string, string, string][] = [];
    for (const [field, property] of Object.entries(schema.properties ?? {})) {
      if (property.minLength !== undefined && property.minLength > 0) probes.push([field, "x".repeat(property.minLength - 1), "string_too_short"]);
      if (property.maxLength !== undefined) probes.push([field, "x".repeat(property.maxLength + 1), "string_too_long"]);
      if (property.format === "email") probes.push([field, "not-an-email", "value_error"]);
    }
    // Guards the loop itself: the create schema documents limits on all three fields.
    expect(probes.map(([field]) => field)).toEqual(expect.arrayContaining(["organization_name", "email", "password"]));
    for (const [field, value, type] of probes) {
      const res = await postJson("/org/create", { ...base, [field]: value });
      expect(res.status, `${field} = ${value.slice(0, 20)}…`).toBe(422);
      expect(await detailOf(res)).toContainEqual(expect.objectContaining({ loc: ["body", field], type }));
    }
  });
});

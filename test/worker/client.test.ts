import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createOrgClient } from "../../clients/typescript";
import { emailFor, uniqueName } from "../helpers";

/** The generated client, sending straight into the Worker under test instead of over a network. */
const client = createOrgClient({ baseUrl: "https://org.example", fetch: (request) => exports.default.fetch(request) });

describe("the generated TypeScript client", () => {
  it("drives the main flow: create, read, log in, records, rename, delete", async () => {
    const name = uniqueName("Client");
    const email = emailFor(name);

    const created = await client.POST("/org/create", { body: { organization_name: name, email, password: "Test1234" } });
    expect(created.response.status).toBe(200);
    expect(created.data?.admin_email).toBe(email);

    const login = await client.POST("/admin/login", { body: { email, password: "Test1234" } });
    const token = login.data?.access_token ?? "";
    expect(login.data?.token_type).toBe("bearer");
    const auth = { authorization: `Bearer ${token}` };

    const found = await client.GET("/org/get", { params: { query: { organization_name: name } }, headers: auth });
    expect(found.data).toMatchObject({ organization_name: name, collection_name: created.data?.collection_name, admin_email: email, status: "active" });

    const stored = await client.POST("/org/records", { body: { plan: "pro" }, headers: auth });
    expect(stored.response.status).toBe(201);
    const id = stored.data?.id ?? "";
    const replaced = await client.PUT("/org/records/{id}", { params: { path: { id } }, body: { plan: "team" }, headers: auth });
    expect(replaced.data).toMatchObject({ id, plan: "team" });

    const renamed = uniqueName("Client");
    const update = await client.PUT("/org/update", { body: { organization_name: name, new_organization_name: renamed }, headers: auth });
    expect(update.data?.organization_name).toBe(renamed);

    // The records moved with the organization.
    const page = await client.GET("/org/records", { params: { query: { limit: 10 } }, headers: auth });
    expect(page.data?.records.map((record) => record.plan)).toEqual(["team"]);
    const removed = await client.DELETE("/org/records/{id}", { params: { path: { id } }, headers: auth });
    expect(removed.response.status).toBe(204);

    const deleted = await client.DELETE("/org/delete", {
      params: { query: { organization_name: renamed }, header: { "x-admin-email": email } },
      headers: auth,
    });
    expect(deleted.data).toEqual({ detail: "deleted" });
  });

  it("gives documented errors typed, in FastAPI's shapes", async () => {
    const missing = await client.GET("/org/get", { params: { query: { organization_name: uniqueName("Ghost") } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toEqual({ detail: "Organization not found" });

    const invalid = await client.POST("/org/create", { body: { organization_name: "", email: "not-an-email", password: "short" } });
    expect(invalid.response.status).toBe(422);
    expect(Array.isArray(invalid.error?.detail)).toBe(true);
  });
});

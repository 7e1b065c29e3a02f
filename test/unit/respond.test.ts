import { describe, expect, it } from "vitest";
import { createRoute, getRoute } from "../../src/http/routes/organizations";
import { respond } from "../../src/http/serve-route";

describe("responses are validated on the way out, by the route's declared schema", () => {
  it("drop any field the contract does not name", async () => {
    const res = respond(createRoute, {
      body: { organization_name: "A", collection_name: "org_a", admin_email: "a@b.co", password_hash: "$pbkdf2-sha256$…", _id: "x" },
    });
    expect(await res.json()).toEqual({ organization_name: "A", collection_name: "org_a", admin_email: "a@b.co" });
  });

  it("refuse to send what breaks the contract", () => {
    expect(() =>
      respond(getRoute, { body: { organization_name: "A", collection_name: "org_a", status: "deleting", created_at: "x", updated_at: "y" } }),
    ).toThrow();
  });

  it("refuse a status the route does not declare", () => {
    expect(() => respond(getRoute, { status: 201, body: {} })).toThrow(/does not declare/);
  });
});

import { describe, expect, it } from "vitest";
import { jsonOut } from "../../src/http/respond";
import { CreatedOrganization, OrganizationMetadata } from "../../src/http/schemas";

describe("responses are validated on the way out", () => {
  it("drop any field the contract does not name", async () => {
    const res = jsonOut(CreatedOrganization, {
      organization_name: "A",
      collection_name: "org_a",
      admin_email: "a@b.co",
      password_hash: "$pbkdf2-sha256$…",
      _id: "x",
    });
    expect(await res.json()).toEqual({ organization_name: "A", collection_name: "org_a", admin_email: "a@b.co" });
  });

  it("refuse to send what breaks the contract", () => {
    expect(() =>
      jsonOut(OrganizationMetadata, { organization_name: "A", collection_name: "org_a", status: "deleting", created_at: "x", updated_at: "y" }),
    ).toThrow();
  });
});

import { describe, expect, it } from "vitest";
import { call, createOrg, postJson } from "../helpers";

describe("smoke", () => {
  it("creates and reads an organization", async () => {
    const { name, body } = await createOrg();
    expect(body.organization_name).toBe(name);
    const res = await call(`/org/get?organization_name=${encodeURIComponent(name)}`);
    expect(res.status).toBe(200);
  });
  it("refuses malformed JSON with FastAPI's 422", async () => {
    const res = await call("/org/create", { method: "POST", headers: { "content-type": "application/json" }, body: "{bad" });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: [{ loc: ["body", 0], msg: "JSON decode error", type: "json_invalid" }] });
    expect((await postJson("/nope", {})).status).toBe(404);
  });
});

import { describe, expect, it } from "vitest";
import { call, createOrg, emailFor, loginToken, postJson, putJson, uniqueName } from "../helpers";

const exists = async (name: string) => (await call(`/org/get?organization_name=${encodeURIComponent(name)}`)).status === 200;

describe("hostile or malformed input gets a 4xx and changes nothing", () => {
  const valid = () => {
    const name = uniqueName("Bad");
    return { organization_name: name, email: emailFor(name), password: "Test1234" };
  };

  it.each([
    ["a number for the name", { organization_name: 42 }, ["body", "organization_name"], "string_type"],
    ["an operator object as the e-mail", { email: { $ne: null } }, ["body", "email"], "string_type"],
    ["an operator object as the name", { organization_name: { $gt: "" } }, ["body", "organization_name"], "string_type"],
    ["an array as the password", { password: ["Test1234"] }, ["body", "password"], "string_type"],
    ["null as the e-mail", { email: null }, ["body", "email"], "string_type"],
    ["a malformed e-mail", { email: "not-an-email" }, ["body", "email"], "value_error"],
    ["a short password", { password: "short" }, ["body", "password"], "string_too_short"],
    ["an unknown field", { is_admin: true }, ["body", "is_admin"], "extra_forbidden"],
    ["a prototype-polluting field", { __proto__: { polluted: true }, constructor: "x" }, ["body", "constructor"], "extra_forbidden"],
  ])("create with %s: 422", async (_label, override, loc, type) => {
    const body = { ...valid(), ...override };
    const res = await postJson("/org/create", body);
    expect(res.status).toBe(422);
    const detail = ((await res.json()) as { detail: { loc: unknown[]; type: string }[] }).detail;
    expect(detail).toContainEqual(expect.objectContaining({ loc, type }));
    if (typeof body.organization_name === "string") expect(await exists(body.organization_name)).toBe(false);
  });

  it("create with a missing field: 422 naming it", async () => {
    const { organization_name, email } = valid();
    const res = await postJson("/org/create", { organization_name, email });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: [{ loc: ["body", "password"], msg: "Field required", type: "missing" }] });
    expect(await exists(organization_name)).toBe(false);
  });

  it("a body that is not an object: 422", async () => {
    for (const body of ["[]", '"text"', "null", "42"]) {
      const res = await call("/org/create", { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(res.status).toBe(422);
    }
  });

  it("a wrong or missing content type: 415", async () => {
    const body = valid();
    for (const headers of [{ "content-type": "text/plain" }, { "content-type": "application/x-www-form-urlencoded" }, {}] as Record<string, string>[]) {
      const res = await call("/org/create", { method: "POST", headers, body: JSON.stringify(body) });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({ detail: "Content-Type must be application/json" });
    }
    expect(await exists(body.organization_name)).toBe(false);
  });

  it("a huge body: 413, before it is parsed", async () => {
    const body = { ...valid(), padding: "x".repeat(64 * 1024) };
    const res = await postJson("/org/create", body);
    expect(res.status).toBe(413);
    expect(await exists(body.organization_name)).toBe(false);
  });

  // A request from the network declares its length; one built here declares nothing unless told,
  // so each way is named, and a declared length is never taken for the size of what arrives.
  it("a body with a declared length or streamed without one; over the limit either way, whatever it declares: 413", async () => {
    const send = (body: BodyInit, length?: number) =>
      call("/org/create", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(length === undefined ? {} : { "content-length": String(length) }) },
      });
    const declared = valid();
    const text = JSON.stringify(declared);
    expect((await send(text, new TextEncoder().encode(text).byteLength)).status).toBe(200);
    expect(await exists(declared.organization_name)).toBe(true);

    const streamed = valid();
    expect((await send(new Blob([JSON.stringify(streamed)]).stream())).status).toBe(200);
    expect(await exists(streamed.organization_name)).toBe(true);

    const huge = { ...valid(), padding: "x".repeat(64 * 1024) };
    const hugeText = JSON.stringify(huge);
    // Declared as small but carrying more.
    expect((await send(hugeText, 100)).status).toBe(413);
    expect((await send(new Blob([hugeText]).stream())).status).toBe(413);
    expect(await exists(huge.organization_name)).toBe(false);
  });

  it("login with an operator object as the e-mail: 422, not a login", async () => {
    const org = await createOrg();
    const res = await postJson("/admin/login", { email: { $ne: null }, password: org.password });
    expect(res.status).toBe(422);
    const regex = await postJson("/admin/login", { email: { $regex: ".*" }, password: org.password });
    expect(regex.status).toBe(422);
  });

  it("a repeated query parameter: 422", async () => {
    const org = await createOrg();
    const res = await call(`/org/get?organization_name=${encodeURIComponent(org.name)}&organization_name=x`);
    expect(res.status).toBe(422);
  });

  it("update with an operator object as the new name: 422 and no rename", async () => {
    const org = await createOrg();
    const res = await putJson("/org/update", { organization_name: org.name, new_organization_name: { $ne: "" }, email: org.email, password: org.password });
    expect(res.status).toBe(422);
    expect(await exists(org.name)).toBe(true);
  });

  it("delete with a forged token: 401 and nothing deleted", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const [header, payload] = token.split(".");
    const forged = `${header}.${payload}.${"A".repeat(43)}`;
    const res = await call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(res.status).toBe(401);
    expect(await exists(org.name)).toBe(true);
  });

  it("unknown paths are 404 and wrong methods 405, in FastAPI's shape", async () => {
    const missing = await call("/org/nothing");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "Not Found" });
    const wrongMethod = await call("/org/create");
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ detail: "Method Not Allowed" });
  });
});

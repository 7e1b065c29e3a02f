import { describe, expect, it } from "vitest";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { env } from "../../helpers";
import { newTenant, PROVOKE, SUCCESS, send } from "./cases";
import { documentedExamples, loadDocument, operationOf, schemaProblems } from "./document";
import { documented, key, ONLY_EMBEDDED, reuseTenants } from "./reuse";

const tenants = reuseTenants("sweep");

const errorCases = documented.flatMap((route) => route.errors.map((code) => [key(route), code] as const));

describe("every documented error case, sent", () => {
  it("has a way to provoke it, and every declared route a successful request", () => {
    expect(documented.map(key).filter((name) => !SUCCESS[name])).toEqual([]);
    expect(errorCases.filter(([, code]) => !PROVOKE[code]).map((pair) => pair.join(" "))).toEqual([]);
  });

  it.each(errorCases)("%s answers %s as documented", async (name, code) => {
    if (env.DATA_API_URL && ONLY_EMBEDDED.has(code)) return;
    const [method = "", path = ""] = name.split(" ");
    const op = operationOf(await loadDocument(), method, path);
    const tenant = await tenants.take(name);
    const success = SUCCESS[name];
    const provoke = PROVOKE[code];
    if (!success || !provoke) throw new Error(`no case for ${name} ${code}`);
    const res = await send(await provoke(success(tenant), tenant, name));
    await tenants.giveBack(name, tenant, code, res);
    const body = (await res.json()) as { detail: unknown };
    const status = ERRORS[code].status;
    expect({ status: res.status, body }).toMatchObject({ status });
    expect(Object.keys(op.responses), "the status is documented").toContain(String(status));
    expect(schemaProblems(op, status, body)).toEqual([]);
    if (code !== "VALIDATION_FAILED") {
      expect(body).toEqual({ detail: ERRORS[code].message });
      expect(documentedExamples(op, status)).toContainEqual(body);
    }
  });
});

describe("every documented success, sent", () => {
  it.each(documented.map((route) => [key(route), route] as const))("%s answers as documented", async (name, route) => {
    const op = operationOf(await loadDocument(), route.method, route.path);
    const tenant = await newTenant(name);
    const ask = SUCCESS[name];
    if (!ask) throw new Error(`no successful request for ${name}`);
    const res = await send(ask(tenant));
    const [status = 0] = Object.keys(route.responses).map(Number);
    expect(res.status).toBe(status);
    const [contentType, media] = Object.entries(op.responses[String(status)]?.content ?? {})[0] ?? [];
    if (!contentType) return expect(await res.text()).toBe("");
    expect(res.headers.get("content-type")).toMatch(new RegExp(`^${contentType}`));
    if (media?.schema) expect(schemaProblems(op, status, await res.json())).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { TAGS } from "../../../src/http/route";
import { ROUTES } from "../../../src/http/routes";
import { call, operator, PLATFORM_WRITE_KEY } from "../../helpers";
import { loadDocument } from "./document";

const documented = ROUTES.filter((route) => !route.internal);
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
const concrete = (path: string) => path.replace(/\{\w+\}/g, "ffffffffffffffffffffffff");
/** The operator API answers 404 to anyone without a key (test/worker/platform.test.ts): these checks send one. */
const credentials = (path: string): RequestInit => (path.startsWith("/platform/") ? { headers: operator(PLATFORM_WRITE_KEY) } : {});

describe("every declared route is in the document, as declared", () => {
  it("lists exactly the declared operations", async () => {
    const doc = await loadDocument();
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => key(method, path)));
    expect(listed.sort()).toEqual(documented.map((route) => key(route.method, route.path)).sort());
  });

  it.each(documented.map((route) => [key(route.method, route.path), route] as const))("%s: every status it declares, success and error", async (_, route) => {
    const op = (await loadDocument()).paths[route.path]?.[route.method];
    const statuses = new Set([...Object.keys(route.responses), ...route.errors.map((code) => String(ERRORS[code].status))]);
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual([...statuses].sort());
  });

  it("groups every operation under one declared tag, in the declared order, none under 'default'", async () => {
    const doc = await loadDocument();
    const names = Object.values(TAGS).map((tag) => tag.name);
    expect(doc.tags.map((tag) => tag.name)).toEqual(names);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.tags, key(method, path)).toHaveLength(1);
        expect(names, key(method, path)).toContain(op.tags?.[0]);
      }
    }
  });
});

/** A file each wildcard route serves (public/ is built before the suites); a path that is no file is the page's own. */
const WILDCARD_FILES: Record<string, string> = { "/docs-assets/*": "swagger-ui.css", "/console/assets/*": "app.js" };

describe("the router serves exactly the declared routes", () => {
  it.each(ROUTES.map((route) => [key(route.method, route.path), route] as const))("%s is routed (neither 404 nor 405)", async (_, route) => {
    const path = concrete(route.path.replace("*", WILDCARD_FILES[route.path] ?? "members"));
    const res = await call(path, { method: route.method.toUpperCase(), ...credentials(path) });
    // A declared route may refuse this bare request (401, 415, 422...), but never as an unknown path or method.
    expect(res.status).not.toBe(405);
    if (res.status === 404) expect(await res.text()).not.toBe(JSON.stringify({ detail: ERRORS.NOT_FOUND.message }));
  });

  it("answers 405 on a declared path for every method no route declares there", async () => {
    const methods = ["get", "post", "put", "delete", "patch"];
    for (const path of new Set(documented.map((route) => route.path))) {
      const declared = documented.filter((route) => route.path === path).map((route) => route.method);
      for (const method of methods.filter((m) => !declared.includes(m as never))) {
        const res = await call(concrete(path), { method: method.toUpperCase(), ...credentials(path) });
        expect(res.status, key(method, path)).toBe(405);
        expect(await res.json()).toEqual({ detail: ERRORS.METHOD_NOT_ALLOWED.message });
      }
    }
  });
});

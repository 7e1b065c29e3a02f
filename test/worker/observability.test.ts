import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { call, createOrg, emailFor, loginToken, postJson, putJson, uniqueName } from "../helpers";

interface LogLine {
  request_id: string;
  method: string;
  route: string;
  status: number;
  duration_ms: number;
  org_id?: string;
  data_round_trips: number;
}

const LEVELS = ["log", "info", "warn", "error", "debug"] as const;
let spies: MockInstance[] = [];

beforeEach(() => {
  // Spied without output: the Worker runs in this isolate, so its console is this one.
  spies = LEVELS.map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
});
afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

/** Everything the Worker wrote to any console level since the test began. */
const everythingLogged = (): string => spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" "))).join("\n");

const requestLines = (): LogLine[] =>
  (spies[0]?.mock.calls ?? [])
    .map((args) => String(args[0]))
    .filter((text) => text.startsWith("{"))
    .map((text) => JSON.parse(text) as Partial<LogLine>)
    .filter((line): line is LogLine => typeof line.request_id === "string" && typeof line.status === "number");

/** The one log line of the request that answered `res`. */
const lineFor = (res: Response): LogLine => {
  const id = res.headers.get("x-request-id");
  const lines = requestLines().filter((line) => line.request_id === id);
  expect(lines, `log lines for request ${id}`).toHaveLength(1);
  return lines[0] as LogLine;
};

const claimsOf = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { org_id: string };

describe("x-request-id", () => {
  it("echoes a well-formed id from the caller, on the response and in the log line", async () => {
    const id = "client-42.retry-1_A";
    const res = await call("/health", { headers: { "x-request-id": id } });
    expect(res.headers.get("x-request-id")).toBe(id);
    expect(lineFor(res).request_id).toBe(id);
  });

  it.each([
    ["too long", "a".repeat(65)],
    ["too short", "abc"],
    ["with a colon", "client:42:retry"],
    ["with spaces", "two words"],
    ["with markup", "<script>"],
    ["a log-forging attempt", 'x","status":200'],
  ])("replaces an id that is %s with a generated one", async (_label, given) => {
    const res = await call("/health", { headers: { "x-request-id": given } });
    const id = res.headers.get("x-request-id");
    expect(id).not.toBe(given);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(lineFor(res).request_id).toBe(id);
  });

  it("generates a fresh id for every request that brings none, error responses included", async () => {
    const ids = [];
    for (const path of ["/health", "/health", "/no-such-path"]) ids.push((await call(path)).headers.get("x-request-id"));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the log line", () => {
  it("has every field for an authenticated call: id, method, route, status, duration, org id, round trips", async () => {
    const { name, email, password } = await createOrg();
    const token = await loginToken(email, password);
    const res = await call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const line = lineFor(res);
    expect(line).toEqual({
      request_id: res.headers.get("x-request-id"),
      method: "DELETE",
      route: "/org/delete",
      status: 200,
      duration_ms: expect.any(Number),
      org_id: claimsOf(token).org_id,
      data_round_trips: Number(res.headers.get("x-data-round-trips")),
    });
    expect(line.org_id).toMatch(/^[0-9a-f]{24}$/);
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    expect(line.data_round_trips).toBeGreaterThan(0);
  });

  it("has the org id of a successful login, once the password proved who it is", async () => {
    const { email, password } = await createOrg();
    const res = await postJson("/admin/login", { email, password });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(lineFor(res)).toMatchObject({ method: "POST", route: "/admin/login", status: 200, org_id: claimsOf(access_token).org_id });
    const wrong = await postJson("/admin/login", { email, password: `${password}-wrong` });
    expect(wrong.status).toBe(401);
    expect(lineFor(wrong).org_id).toBeUndefined();
  });

  it("names the route pattern, not the URL with its query, and has no org id for anonymous calls", async () => {
    const res = await call("/org/get?organization_name=Nobody%20Here");
    expect(res.status).toBe(404);
    const line = lineFor(res);
    expect(line).toMatchObject({ method: "GET", route: "/org/get", status: 404 });
    expect(line.org_id).toBeUndefined();
    expect(JSON.stringify(line)).not.toContain("Nobody");
  });

  it("counts the data round trips of a call that made none as 0", async () => {
    const res = await call("/openapi.json");
    expect(lineFor(res)).toMatchObject({ route: "/openapi.json", status: 200, data_round_trips: 0 });
    expect(res.headers.get("x-data-round-trips")).toBe("0");
  });

  it("never contains a password or a token, whatever the request carried", async () => {
    const name = uniqueName("Secret");
    const password = `Pw-${crypto.randomUUID()}`;
    const email = emailFor(name);
    expect((await postJson("/org/create", { organization_name: name, email, password })).status).toBe(200);
    const login = await postJson("/admin/login", { email, password });
    const { access_token: token } = (await login.json()) as { access_token: string };
    expect((await postJson("/admin/login", { email, password: `${password}-wrong` })).status).toBe(401);
    expect((await putJson("/org/update", { organization_name: name, new_organization_name: `${name} 2`, email, password })).status).toBe(200);
    const renamed = await putJson("/org/update", { organization_name: `${name} 2`, new_organization_name: name }, { authorization: `Bearer ${token}` });
    expect([200, 401]).toContain(renamed.status);
    await call(`/org/get?organization_name=${encodeURIComponent(name)}`, { headers: { authorization: `Bearer ${token}` } });
    await call("/org/get?organization_name=x", { headers: { authorization: `Bearer ${token}.tampered` } });

    const logged = everythingLogged();
    // Guards the capture itself: these requests were logged, or the assertions below prove nothing.
    expect(requestLines().length).toBeGreaterThanOrEqual(6);
    expect(logged).not.toContain(password);
    for (const part of token.split(".")) expect(logged).not.toContain(part);
  });
});

// The data round trips each endpoint makes before it answers, against the one table the docs
// (docs/architecture.md) and the latency model (npm run latency) are generated from: a change
// that adds or saves a call fails here until test/round-trips.json says so.
import { describe, expect, it } from "vitest";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import {
  bearer,
  call,
  createOrg,
  emailFor,
  env,
  loginToken,
  operator,
  PLATFORM_WRITE_KEY,
  patchJson,
  postJson,
  putJson,
  roundTrips,
  storeClient,
  uniqueName,
} from "../helpers";
import table from "../round-trips.json";
import { proveAddress, verifiedInStore } from "./domain-kit";

const tokenOf = async (res: Response) => ((await res.json()) as { access_token: string }).access_token;
const userIdOf = (token: string) => (JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { admin_id: string }).admin_id;
const remove = (path: string, headers: Record<string, string>) => call(path, { method: "DELETE", headers });
const organizations = () => storeClient(env.DATABASE ?? "master_db").collection<OrganizationDoc>(ORGANIZATIONS);

/** Waits until no event publisher holds a lease on the organization (they run after the answer). */
const publisherDone = async (name: string) => {
  for (let i = 0; i < 100; i++) {
    const org = await organizations().findOne({ organization_name: name });
    if (Object.keys(org?.publish_leases ?? {}).length === 0 && (org?.outbox ?? []).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the events of ${name} were never published`);
};

describe("data round trips per endpoint", () => {
  it("are the figures of test/round-trips.json, endpoint by endpoint", async () => {
    const measured: Record<string, number> = {};
    const count = async (endpoint: string, answer: Promise<Response>, status = 200) => {
      const res = await answer;
      if (res.status !== status) throw new Error(`${endpoint}: ${res.status} ${await res.text()}`);
      measured[endpoint] = roundTrips(res);
      return res;
    };

    await count("GET /health", call("/health"));
    const name = uniqueName("Trips");
    const email = emailFor(name);
    const password = "Test1234";
    await count("POST /org/create", postJson("/org/create", { organization_name: name, email, password }));
    await count("GET /org/get", call(`/org/get?organization_name=${encodeURIComponent(name)}`));
    const owner = await tokenOf(await count("POST /admin/login", postJson("/admin/login", { email, password })));
    await count("POST /admin/login (wrong password)", postJson("/admin/login", { email, password: "Wrong-1234" }), 401);
    const renamed = uniqueName("Trips");
    await count("PUT /org/update (password)", putJson("/org/update", { organization_name: name, new_organization_name: renamed, email, password }));
    const again = uniqueName("Trips");
    await count("PUT /org/update (bearer)", putJson("/org/update", { organization_name: renamed, new_organization_name: again }, bearer(owner)));

    await count("POST /org/records", postJson("/org/records", { plan: "pro" }, bearer(owner)), 201);
    await count("GET /org/records", call("/org/records", { headers: bearer(owner) }));
    const key = (await (
      await count("POST /org/api-keys", postJson("/org/api-keys", { name: "trips", scopes: ["records:read", "records:write"] }, bearer(owner)), 201)
    ).json()) as {
      id: string;
      secret: string;
    };
    await count("POST /org/records (API key)", postJson("/org/records", { plan: "pro" }, bearer(key.secret)), 201);
    await count("GET /org/records (API key)", call("/org/records", { headers: bearer(key.secret) }));
    await count("DELETE /org/api-keys/{id}", remove(`/org/api-keys/${key.id}`, bearer(owner)));

    await count("GET /org/events", call("/org/events", { headers: bearer(owner) }));

    const changed = await count(
      "POST /admin/password",
      postJson("/admin/password", { current_password: password, new_password: "Brand-new-9" }, bearer(owner)),
    );
    const fresh = await tokenOf(changed);
    // Events are published after the answer; a delete that began meanwhile would wait for the
    // publisher's lease (one more read): the figure is the delete's own.
    await publisherDone(again);
    await count("DELETE /org/delete", remove(`/org/delete?organization_name=${encodeURIComponent(again)}`, bearer(fresh)));

    // The membership routes in an organization of their own, so that the delete above is measured
    // on an organization no background publisher is still working on.
    const team = await createOrg(uniqueName("Trips"));
    const lead = await loginToken(team.email, team.password);
    const invited = await count("POST /org/invitations", postJson("/org/invitations", { email: `trips-${team.email}`, role: "member" }, bearer(lead)), 201);
    const other = (await (await postJson("/org/invitations", { email: `other-${team.email}`, role: "member" }, bearer(lead))).json()) as { id: string };
    await count("DELETE /org/invitations/{id}", remove(`/org/invitations/${other.id}`, bearer(lead)));
    await count("GET /org/invitations", call("/org/invitations", { headers: bearer(lead) }));
    const { token } = (await invited.json()) as { token: string };
    const member = userIdOf(await tokenOf(await count("POST /invitations/accept", postJson("/invitations/accept", { token, password: "Joiner-1234" }))));
    await count("GET /org/members", call("/org/members", { headers: bearer(lead) }));
    await count("PATCH /org/members/{id}", patchJson(`/org/members/${member}`, { role: "admin" }, bearer(lead)));
    await count("POST /org/roles", postJson("/org/roles", { name: "trips", permissions: ["records:read"] }, bearer(lead)), 201);
    await count("GET /org/roles", call("/org/roles", { headers: bearer(lead) }));
    await count("PATCH /org/members/{id} (roles)", patchJson(`/org/members/${member}`, { roles: ["trips"] }, bearer(lead)));
    const holder = await loginToken(`trips-${team.email}`, "Joiner-1234");
    await count("GET /org/records (custom role)", call("/org/records", { headers: bearer(holder) }));
    await count("PATCH /org/roles/{name}", patchJson("/org/roles/trips", { permissions: ["records:read", "audit:read"] }, bearer(lead)));
    await count("DELETE /org/roles/{name}", remove("/org/roles/trips?replace_with=member", bearer(lead)));
    const trips = (await (await count("POST /org/teams", postJson("/org/teams", { name: "Trips" }, bearer(lead)), 201)).json()) as { id: string };
    await count("POST /org/teams/{id}/members", postJson(`/org/teams/${trips.id}/members`, { user_id: member }, bearer(lead)));
    await count("GET /org/teams", call("/org/teams", { headers: bearer(lead) }));
    await count("DELETE /org/members/{id}", remove(`/org/members/${member}`, bearer(lead)));
    const second = uniqueName("Trips");
    await postJson("/org/create", { organization_name: second }, bearer(lead));
    await count("POST /auth/switch", postJson("/auth/switch", { organization_name: second }, bearer(lead)));

    // Joining by domain: an organization whose domain is verified (in the store, as a lookup that
    // found its record leaves it), people who signed up there, the policy switched between the joins.
    const joinable = await verifiedInStore();
    const policy = (body: unknown) => patchJson(`/org/domains/${joinable.id}`, body, bearer(joinable.owner));
    await count("PATCH /org/domains/{id}", policy({ policy: "auto_join" }));
    const signUp = async (local: string) => {
      const signed = (await (
        await count("POST /auth/signup", postJson("/auth/signup", { email: `${local}@${joinable.domain}`, password: "Sign-up-123" }), 201)
      ).json()) as { user_id: string; access_token: string };
      await proveAddress(`${local}@${joinable.domain}`);
      return signed;
    };
    const [eager, asker, declined] = [await signUp("eager"), await signUp("asker"), await signUp("declined")];
    await count("GET /auth/suggestions", call("/auth/suggestions", { headers: bearer(eager.access_token) }));
    const joinPath = `/auth/suggestions/${joinable.orgId}/join`;
    await count("POST /auth/suggestions/{org_id}/join", postJson(joinPath, {}, bearer(eager.access_token)), 201);
    await policy({ policy: "suggest" });
    await count("POST /auth/suggestions/{org_id}/join (suggest)", postJson(joinPath, {}, bearer(asker.access_token)), 202);
    await postJson(joinPath, {}, bearer(declined.access_token));
    await count("GET /org/join-requests", call("/org/join-requests", { headers: bearer(joinable.owner) }));
    await count("POST /org/join-requests/{user_id}/approve", postJson(`/org/join-requests/${asker.user_id}/approve`, {}, bearer(joinable.owner)));
    await count("DELETE /org/join-requests/{user_id}", remove(`/org/join-requests/${declined.user_id}`, bearer(joinable.owner)));
    await count("GET /org/invitation-domains", call("/org/invitation-domains", { headers: bearer(joinable.owner) }));
    await count("PUT /org/invitation-domains", putJson("/org/invitation-domains", { domains: [joinable.domain] }, bearer(joinable.owner)));

    const ops = operator(PLATFORM_WRITE_KEY);
    const target = await createOrg(uniqueName("Trips"));
    const id = (await organizations().findOne({ organization_name: target.name }))?._id;
    await count("GET /platform/organizations", call(`/platform/organizations?query=${encodeURIComponent(target.name)}`, { headers: ops }));
    await count("GET /platform/organizations/{id}", call(`/platform/organizations/${id}`, { headers: ops }));
    const json = { ...ops, "content-type": "application/json" };
    await count(
      "POST /platform/organizations/{id}/suspend",
      call(`/platform/organizations/${id}/suspend`, { method: "POST", headers: json, body: JSON.stringify({ reason: "trips" }) }),
    );
    await count("POST /platform/organizations/{id}/reactivate", call(`/platform/organizations/${id}/reactivate`, { method: "POST", headers: ops }));
    await publisherDone(target.name);
    await count("DELETE /platform/organizations/{id}", remove(`/platform/organizations/${id}`, ops));
    await count("GET /platform/stats", call("/platform/stats", { headers: ops }));
    await count("GET /platform/role-templates", call("/platform/role-templates", { headers: ops }));
    // None, so that organizations other tests create meanwhile start as they would have.
    await count("PUT /platform/role-templates", call("/platform/role-templates", { method: "PUT", headers: json, body: JSON.stringify({ templates: [] }) }));

    const expected = Object.fromEntries(table.endpoints.map((e) => [e.endpoint, e.roundTrips]));
    expect(measured).toEqual(expected);
  });
});

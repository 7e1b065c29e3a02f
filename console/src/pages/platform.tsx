import { Fragment } from "preact";
import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { ApiError, api, call, WITHOUT_SESSION } from "../api";
import { navigate, useLocation } from "../router";
import { ConfirmButton, DataTable, Empty, ErrorNote, Field, Form, fieldError, Link, Loading, LoadMore, Name, Notice, Page, Select, Time, useLoad } from "../ui";

type Detail = paths["/platform/organizations/{id}"]["get"]["responses"][200]["content"]["application/json"];

/**
 * The operator key: it can act on every organization, so it lives in this variable only, never
 * in storage or a URL, and a reload asks for it again. Closing the tab forgets it.
 */
let operatorKey = "";

/** Headers of an operator call: the key instead of any member's session in this tab. */
const asOperator = () => ({ ...WITHOUT_SESSION, authorization: `Bearer ${operatorKey}` });

/** The service answers a wrong key as a path that does not exist (it does not advertise the operator API): said plainly here. */
const operatorCall = async <T,>(pending: Parameters<typeof call<T>>[0]): Promise<T> => {
  try {
    return await call(pending);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.message === "Not Found") throw new ApiError(404, "No such operator key, or it was revoked.");
    throw error;
  }
};

const KeyForm = ({ onKey }: { onKey: () => void }) => {
  const [key, setKey] = useState("");
  return (
    <Form
      onSubmit={async () => {
        operatorKey = key;
        try {
          await operatorCall(api.GET("/platform/stats", { headers: asOperator() }));
        } catch (error) {
          operatorKey = "";
          throw error;
        }
        onKey();
      }}
      submit="Open"
      label="Open the platform view"
    >
      <Field
        label="Operator key"
        name="operator_key"
        type="password"
        autoComplete="off"
        required
        value={key}
        onValue={setKey}
        hint="One of the deployment's PLATFORM_API_KEYS. Kept in this tab's memory only: a reload asks for it again."
      />
    </Form>
  );
};

const Stats = () => {
  const stats = useLoad(() => operatorCall(api.GET("/platform/stats", { headers: asOperator() })));
  if (stats.error) return <ErrorNote error={stats.error} />;
  if (!stats.data) return <Loading what="Loading the platform's figures" />;
  const { total, by_status } = stats.data.organizations;
  return (
    <dl class="facts platform-stats">
      <dt>Organizations</dt>
      <dd>{total}</dd>
      {Object.entries(by_status).map(([status, count]) => (
        <Fragment key={status}>
          <dt>{status}</dt>
          <dd>{count}</dd>
        </Fragment>
      ))}
    </dl>
  );
};

const Search = () => {
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState("");
  const [found, setFound] = useState<{
    items: paths["/platform/organizations"]["get"]["responses"][200]["content"]["application/json"]["organizations"];
    next: string | null;
  } | null>(null);
  const search = async (cursor?: string) => {
    const page = await operatorCall(
      api.GET("/platform/organizations", {
        params: { query: { query: query || undefined, status: (status || undefined) as "active" | undefined, limit: 25, cursor } },
        headers: asOperator(),
      }),
    );
    setFound((previous) => ({ items: cursor && previous ? [...previous.items, ...page.organizations] : page.organizations, next: page.next_cursor }));
  };
  return (
    <>
      <Form onSubmit={() => search()} submit="Search" label="Search organizations">
        {(error) => (
          <>
            <Field label="Name starts with" name="query" type="search" value={query} onValue={setQuery} error={fieldError(error, "query")} />
            <Select
              label="Status"
              name="status"
              value={status}
              onValue={setStatus}
              options={[{ value: "", label: "any" }, ...["active", "suspended", "creating", "renaming", "deleting"].map((s) => ({ value: s, label: s }))]}
            />
          </>
        )}
      </Form>
      {found && found.items.length === 0 ? <Empty>No organization matches.</Empty> : null}
      {found && found.items.length > 0 ? (
        <DataTable caption="Organizations found" columns={["Name", "Status", "Created"]}>
          {found.items.map((org) => (
            <tr key={org.id}>
              <td>
                <Link href={`/console/platform?org=${org.id}`}>
                  <Name>{org.organization_name}</Name>
                </Link>
              </td>
              <td>
                {org.status}
                {org.suspended ? ", suspended" : ""}
              </td>
              <td>
                <Time at={org.created_at} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {found?.next ? <LoadMore onMore={() => search(found.next ?? undefined)} /> : null}
    </>
  );
};

const Organization = ({ id }: { id: string }) => {
  const detail = useLoad(() => operatorCall(api.GET("/platform/organizations/{id}", { params: { path: { id } }, headers: asOperator() })), [id]);
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const [changed, setChanged] = useState<string | null>(null);
  if (detail.error) return <ErrorNote error={detail.error} />;
  const org: Detail | undefined = detail.data;
  if (!org) return <Loading what="Loading the organization" />;
  // The notice comes with the organization as it now stands, never before it.
  const done = async (message: string) => {
    await detail.reload();
    setChanged(message);
  };
  const suspend = async () => {
    await operatorCall(api.POST("/platform/organizations/{id}/suspend", { params: { path: { id } }, body: { reason }, headers: asOperator() }));
    await done("Suspended.");
  };
  const reactivate = async () => {
    await operatorCall(api.POST("/platform/organizations/{id}/reactivate", { params: { path: { id } }, headers: asOperator() }));
    await done("Reactivated.");
  };
  return (
    <section aria-labelledby="org-heading" class="platform-org">
      <h2 id="org-heading">
        <Name>{org.organization_name}</Name>
      </h2>
      {changed ? <Notice>{changed}</Notice> : null}
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          {org.status}
          {org.suspended ? ", suspended" : ""}
        </dd>
        {org.suspension ? (
          <>
            <dt>Suspended</dt>
            <dd>
              <Time at={org.suspension.at} /> by key <code>{org.suspension.by_key_id}</code>: {org.suspension.reason}
            </dd>
          </>
        ) : null}
        <dt>Collection</dt>
        <dd>
          <code>{org.collection_name}</code>
        </dd>
        <dt>Members</dt>
        <dd data-testid="platform-member-count">{org.member_count}</dd>
        <dt>Records</dt>
        <dd>{org.record_count ?? "–"}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={org.created_at} />
        </dd>
        <dt>Owners and admins</dt>
        <dd>
          <ul class="plain">
            {org.admins.map((admin) => (
              <li key={admin.id}>
                <Name>{admin.email}</Name> ({admin.role})
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      {org.suspended ? (
        <ConfirmButton label="Reactivate" confirm="Lift the suspension?" danger={false} onConfirm={reactivate} />
      ) : (
        <Form onSubmit={suspend} submit="Suspend" label="Suspend the organization">
          {(error) => (
            <Field
              label="Reason for the suspension"
              name="reason"
              required
              value={reason}
              onValue={setReason}
              hint="Kept with the suspension and in the audit trail; its members are refused everywhere until it is lifted."
              error={fieldError(error, "reason")}
            />
          )}
        </Form>
      )}
      <h3>Delete</h3>
      <Form
        onSubmit={async () => {
          if (typed !== org.organization_name) throw new Error("To delete, type the organization's name exactly as it is shown above.");
          await operatorCall(api.DELETE("/platform/organizations/{id}", { params: { path: { id } }, headers: asOperator() }));
          navigate("/console/platform");
        }}
        submit="Delete the organization"
        label="Delete the organization"
        class="form danger-zone"
      >
        <Field label="Organization name, to confirm" name="confirm" value={typed} onValue={setTyped} autoComplete="off" spellcheck={false} />
      </Form>
    </section>
  );
};

/** The platform operator's view of every organization, behind an operator key. */
export const Platform = () => {
  const [, setOpened] = useState(0);
  const { query } = useLocation();
  const id = query.get("org");
  return (
    <Page
      title="Platform"
      actions={
        operatorKey ? (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              operatorKey = "";
              setOpened((n) => n + 1);
            }}
          >
            Forget the key
          </button>
        ) : null
      }
    >
      <p>
        <Link href="/console">Back to the organization console</Link>
      </p>
      {!operatorKey ? (
        <KeyForm onKey={() => setOpened((n) => n + 1)} />
      ) : id ? (
        <>
          <p>
            <Link href="/console/platform">All organizations</Link>
          </p>
          <Organization id={id} />
        </>
      ) : (
        <>
          <Stats />
          <h2>Organizations</h2>
          <Search />
        </>
      )}
    </Page>
  );
};

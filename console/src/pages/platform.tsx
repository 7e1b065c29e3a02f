import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { ApiError, api, call } from "../api";
import { navigate, useLocation } from "../router";
import { ConfirmButton, DataTable, Empty, ErrorNote, Field, Form, fieldError, Link, Loading, LoadMore, Name, Notice, Page, Select, Time, useLoad } from "../ui";
import { DeleteByName } from "./settings";

type Detail = paths["/platform/organizations/{id}"]["get"]["responses"][200]["content"]["application/json"];
type Summary = paths["/platform/organizations"]["get"]["responses"][200]["content"]["application/json"]["organizations"][number];
type ListQuery = NonNullable<paths["/platform/organizations"]["get"]["parameters"]["query"]>;
type Status = NonNullable<ListQuery["status"]>;
type Sort = NonNullable<ListQuery["sort"]>;

const STATUSES: readonly Status[] = ["active", "suspended", "creating", "renaming", "deleting"];
const SORTS: readonly { value: Sort; label: string }[] = [
  { value: "name", label: "Name, A to Z" },
  { value: "-name", label: "Name, Z to A" },
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
];
const PAGE_SIZE = 25;

/**
 * The operator key can read, suspend and delete every organization of the deployment, so it lives
 * in this variable only: never in storage (which outlives the page, where any later script of the
 * origin could read it) nor in a URL (kept in the history and in logs). A reload forgets it.
 */
let operatorKey = "";

/** The last search, run again when the list is shown again (back from an organization). */
let lastSearch: { query: string; status: Status | ""; sort: Sort } | null = null;

/** An operator call carries the key as its own Authorization header, so the console adds no member token to it. */
const asOperator = () => ({ authorization: `Bearer ${operatorKey}` });

/** The service answers a wrong key as a path that does not exist (it does not advertise the operator API): said plainly here. */
const operatorCall = async <T,>(pending: Parameters<typeof call<T>>[0]): Promise<T> => {
  try {
    return await call(pending);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.message === ERRORS.PLATFORM_KEY_REQUIRED.message)
      throw new ApiError(404, "No such operator key, or it was revoked.");
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

const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toLocaleString("en", { maximumFractionDigits: 1 })} MiB`;

const Stats = () => {
  const stats = useLoad(() => operatorCall(api.GET("/platform/stats", { headers: asOperator() })));
  if (stats.error) return <ErrorNote error={stats.error} />;
  if (!stats.data) return <Loading what="Loading the platform's figures" />;
  const { organizations, storage_bytes } = stats.data;
  return (
    <dl class="facts platform-stats">
      <dt>Organizations</dt>
      <dd data-testid="platform-total">{organizations.total}</dd>
      {Object.entries(organizations.by_status).map(([status, count]) => (
        <Fragment key={status}>
          <dt>{status}</dt>
          <dd>{count}</dd>
        </Fragment>
      ))}
      {storage_bytes === null ? null : (
        <>
          <dt>Storage</dt>
          <dd>{mebibytes(storage_bytes)}</dd>
        </>
      )}
    </dl>
  );
};

const Search = () => {
  const [query, setQuery] = useState(lastSearch?.query ?? "");
  const [status, setStatus] = useState<Status | "">(lastSearch?.status ?? "");
  const [sort, setSort] = useState<Sort>(lastSearch?.sort ?? "name");
  const [found, setFound] = useState<{ items: Summary[]; next: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const search = async (cursor?: string) => {
    const page = await operatorCall(
      api.GET("/platform/organizations", {
        params: { query: { query: query || undefined, status: status || undefined, sort, limit: PAGE_SIZE, cursor } },
        headers: asOperator(),
      }),
    );
    lastSearch = { query, status, sort };
    setFound((previous) => ({ items: cursor && previous ? [...previous.items, ...page.organizations] : page.organizations, next: page.next_cursor }));
  };
  // Back from an organization: the same search again, as things now stand (it may have been suspended or deleted).
  useEffect(() => {
    if (lastSearch) search().catch(setError);
  }, []);
  return (
    <>
      <Form
        onSubmit={() => {
          setError(null);
          return search();
        }}
        submit="Search"
        label="Search organizations"
      >
        {(refusal) => (
          <>
            <Field
              label="Name starts with"
              name="query"
              type="search"
              value={query}
              onValue={setQuery}
              hint="Matched as the name's slug: case, accents and punctuation do not matter. A search lists by name."
              error={fieldError(refusal, "query")}
            />
            <Select
              label="Status"
              name="status"
              value={status}
              onValue={(value) => setStatus(value as Status | "")}
              options={[{ value: "", label: "any" }, ...STATUSES.map((value) => ({ value, label: value }))]}
            />
            <Select label="Order" name="sort" value={sort} onValue={(value) => setSort(value as Sort)} options={SORTS} />
          </>
        )}
      </Form>
      <ErrorNote error={error} />
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

const Organization = ({ id, onDeleted }: { id: string; onDeleted: (name: string) => void }) => {
  const detail = useLoad(() => operatorCall(api.GET("/platform/organizations/{id}", { params: { path: { id } }, headers: asOperator() })), [id]);
  const [reason, setReason] = useState("");
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
    setChanged(null);
    await operatorCall(api.POST("/platform/organizations/{id}/suspend", { params: { path: { id } }, body: { reason }, headers: asOperator() }));
    setReason("");
    await done("Suspended.");
  };
  const reactivate = async () => {
    setChanged(null);
    await operatorCall(api.POST("/platform/organizations/{id}/reactivate", { params: { path: { id } }, headers: asOperator() }));
    await done("Reactivated.");
  };
  const remove = async () => {
    await operatorCall(api.DELETE("/platform/organizations/{id}", { params: { path: { id } }, headers: asOperator() }));
    onDeleted(org.organization_name);
    navigate("/console/platform");
  };
  return (
    <section aria-labelledby="org-heading" class="platform-org">
      <h2 id="org-heading">
        <Name>{org.organization_name}</Name>
      </h2>
      {changed ? <Notice>{changed}</Notice> : null}
      <dl class="facts">
        <dt>Status</dt>
        <dd data-testid="platform-status">
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
        {org.pending ? (
          <>
            <dt>In progress</dt>
            <dd>
              {org.pending.op} since <Time at={org.pending.started_at} />
              {org.pending.error ? `, failed: ${org.pending.error}` : ""}
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
        <dd data-testid="platform-record-count">{org.record_count ?? "–"}</dd>
        <dt>API keys</dt>
        <dd>{org.api_keys.length}</dd>
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
              hint="Kept with the suspension and in the audit trail. Its members are refused everywhere, nothing is deleted, until it is lifted."
              error={fieldError(error, "reason")}
            />
          )}
        </Form>
      )}
      <h3>Delete</h3>
      <p>Deletes the organization with its collection, memberships, invitations, webhooks, API keys and events. It cannot be undone.</p>
      <DeleteByName name={org.organization_name} onDelete={remove} />
    </section>
  );
};

/** The platform operator's view of every organization, behind an operator key. */
export const Platform = () => {
  const [, setOpened] = useState(0);
  const [deleted, setDeleted] = useState<string | null>(null);
  const { query } = useLocation();
  const id = query.get("org");
  // The notice of a delete belongs to the list it returned to, not to the next organization opened.
  useEffect(() => {
    if (id) setDeleted(null);
  }, [id]);
  const forget = () => {
    operatorKey = "";
    lastSearch = null;
    setDeleted(null);
    setOpened((n) => n + 1);
  };
  return (
    <Page
      title="Platform"
      actions={
        operatorKey ? (
          <button type="button" class="secondary" onClick={forget}>
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
          <Organization id={id} onDeleted={setDeleted} />
        </>
      ) : (
        <>
          {deleted ? (
            <Notice>
              Deleted <Name>{deleted}</Name>.
            </Notice>
          ) : null}
          <Stats />
          <h2>Organizations</h2>
          <Search />
        </>
      )}
    </Page>
  );
};

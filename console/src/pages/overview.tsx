import type { paths } from "../../../clients/typescript/index";
import { api, call } from "../api";
import { can, session } from "../session";
import { Empty, ErrorNote, Link, Loading, Name, Page, Time, useLoad } from "../ui";

type FeedEvent = paths["/org/events"]["get"]["responses"][200]["content"]["application/json"]["events"][number];

/** Counting stops here: past it the page says "1,000+" rather than reading the whole collection. */
const COUNT_CAP = 1000;
const PAGE = 200;

/** How many items a cursor-paged list holds, read page by page up to `cap`: the number and whether there are more. */
const countPages = async (read: (cursor?: string) => Promise<{ count: number; next: string | null | undefined }>, cap = COUNT_CAP) => {
  let total = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await read(cursor);
    total += page.count;
    if (!page.next) return { total, more: false };
    if (total >= cap) return { total, more: true };
    cursor = page.next;
  }
};

/** The newest `count` events: the feed lists oldest first and forward only, so it is read to its end. */
const recentEvents = async (count: number): Promise<FeedEvent[]> => {
  let after: string | undefined;
  let kept: FeedEvent[] = [];
  for (;;) {
    const page = await call(api.GET("/org/events", { params: { query: { after, limit: PAGE } } }));
    kept = [...kept, ...page.events].slice(-count);
    after = page.next_cursor;
    if (!page.has_more) return kept.reverse();
  }
};

const countText = (value: { total: number; more: boolean } | undefined): string =>
  value ? `${value.total.toLocaleString("en")}${value.more ? "+" : ""}` : "–";

/**
 * The organization at a glance: what GET /org/get says of it, how many members and records it
 * has (counted through the lists the member may read: no count exists for members in the API),
 * and its latest events for those who may read them.
 */
export const Overview = () => {
  const current = session();
  const name = current?.orgName ?? "";
  const org = useLoad(() => call(api.GET("/org/get", { params: { query: { organization_name: name } } })), [name]);
  const members = useLoad(
    async () =>
      can("member:read")
        ? countPages(async (cursor) => {
            const page = await call(api.GET("/org/members", { params: { query: { limit: PAGE, cursor } } }));
            return { count: page.members.length, next: page.next_cursor };
          })
        : undefined,
    [name],
  );
  const records = useLoad(
    async () =>
      can("records:read")
        ? countPages(async (cursor) => {
            const page = await call(api.GET("/org/records", { params: { query: { limit: PAGE, cursor } } }));
            return { count: page.records.length, next: page.next_cursor };
          })
        : undefined,
    [name],
  );
  const events = useLoad(async () => (can("audit:read") ? recentEvents(5) : undefined), [name]);
  const suspended = org.data?.status === "suspended";
  return (
    <Page title="Overview">
      {org.loading && !org.data ? <Loading what="Loading the organization" /> : null}
      <ErrorNote error={org.error} />
      {suspended ? (
        <p class="error" role="alert">
          This organization is suspended by the service's operator: its members can do nothing in it until it is reactivated.
        </p>
      ) : null}
      {org.data ? (
        <dl class="facts">
          <dt>Name</dt>
          <dd>
            <Name>{org.data.organization_name}</Name>
          </dd>
          <dt>Collection</dt>
          <dd>
            <code>{org.data.collection_name}</code>
          </dd>
          <dt>Status</dt>
          <dd>{org.data.status}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={org.data.created_at} />
          </dd>
          {can("member:read") ? (
            <>
              <dt>Members</dt>
              <dd data-testid="member-count">{countText(members.data)}</dd>
            </>
          ) : null}
          {can("records:read") ? (
            <>
              <dt>Records</dt>
              <dd data-testid="record-count">{countText(records.data)}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {suspended ? null : (
        <>
          <ErrorNote error={members.error ?? records.error} />
          {can("audit:read") ? (
            <>
              <h2>Recent events</h2>
              <ErrorNote error={events.error} />
              {events.data && events.data.length === 0 ? <Empty>No events yet.</Empty> : null}
              {events.data && events.data.length > 0 ? (
                <ul class="recent-events">
                  {events.data.map((event) => (
                    <li key={event.id}>
                      <code>{event.type}</code> <Time at={event.created_at} />
                    </li>
                  ))}
                </ul>
              ) : null}
              <p>
                <Link href="/console/events">All events</Link>
              </p>
            </>
          ) : null}
        </>
      )}
    </Page>
  );
};

import type { paths } from "../../../clients/typescript/index";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { ApiError, api, call } from "../api";
import { can, session } from "../session";
import { Empty, ErrorNote, Link, Loading, Name, Page, Time, useLoad } from "../ui";

type FeedEvent = paths["/org/events"]["get"]["responses"][200]["content"]["application/json"]["events"][number];

/** Members are few: they are counted page by page, up to this many. */
const MEMBER_CAP = 1000;
const MEMBER_PAGE = 200;
/**
 * No member-facing call counts records, and a record may weigh 64 KiB: the overview reads one
 * page of this size and says "50+" when there are more (the Records view pages through them all).
 */
const RECORD_PAGE = 50;
const EVENT_PAGE = 200;
const RECENT = 5;

interface Count {
  total: number;
  more: boolean;
}

const countMembers = async (): Promise<Count> => {
  let total = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await call(api.GET("/org/members", { params: { query: { limit: MEMBER_PAGE, cursor } } }));
    total += page.members.length;
    if (!page.next_cursor) return { total, more: false };
    if (total >= MEMBER_CAP) return { total, more: true };
    cursor = page.next_cursor;
  }
};

const countRecords = async (): Promise<Count> => {
  const page = await call(api.GET("/org/records", { params: { query: { limit: RECORD_PAGE } } }));
  return { total: page.records.length, more: page.next_cursor !== null };
};

/**
 * The newest events, newest first. The feed lists oldest first and only forwards, so it is read to
 * its end; it holds 30 days of events at most.
 */
const recentEvents = async (): Promise<FeedEvent[]> => {
  let after: string | undefined;
  let kept: FeedEvent[] = [];
  for (;;) {
    const page = await call(api.GET("/org/events", { params: { query: { after, limit: EVENT_PAGE } } }));
    kept = [...kept, ...page.events].slice(-RECENT);
    after = page.next_cursor;
    if (!page.has_more) return kept.reverse();
  }
};

const countText = (count: Count | undefined): string => (count ? `${count.total.toLocaleString("en")}${count.more ? "+" : ""}` : "…");

/** A suspended organization refuses its members every call with this one detail. */
const isSuspension = (error: unknown): boolean => error instanceof ApiError && error.message === ERRORS.ORGANIZATION_SUSPENDED.message;

/**
 * The organization at a glance: what GET /org/get says of it, its member and record counts (read
 * through the lists the member may read), and its latest events for those who may read them.
 */
export const Overview = () => {
  const name = session()?.orgName ?? "";
  const org = useLoad(() => call(api.GET("/org/get", { params: { query: { organization_name: name } } })), [name]);
  const members = useLoad(async () => (can("member:read") ? countMembers() : undefined), [name]);
  const records = useLoad(async () => (can("records:read") ? countRecords() : undefined), [name]);
  const events = useLoad(async () => (can("audit:read") ? recentEvents() : undefined), [name]);
  const errors = [members.error, records.error, events.error];
  // Suspended, every call answers the same refusal: said once, at the top, in the service's words.
  const suspension = errors.find(isSuspension);
  const otherError = errors.find((error) => error && !isSuspension(error));
  // The session's token carries the name it was issued under; renamed since by someone else, that name finds nothing.
  const nameGone = org.error instanceof ApiError && org.error.status === 404;
  return (
    <Page title="Overview">
      <ErrorNote error={suspension} />
      {nameGone ? (
        <p class="error" role="alert">
          No organization is called <Name>{name}</Name> any more: it was renamed or deleted. Sign out and sign in again to open it under its current name.
        </p>
      ) : (
        <ErrorNote error={org.error} />
      )}
      {org.loading && !org.data ? <Loading what="Loading the organization" /> : null}
      {org.data ? (
        <dl class="facts">
          <dt>Name</dt>
          <dd>
            <Name>{org.data.organization_name}</Name>
          </dd>
          <dt>Collection</dt>
          <dd>
            <code data-testid="collection">{org.data.collection_name}</code>
          </dd>
          <dt>Status</dt>
          <dd>{org.data.status}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={org.data.created_at} />
          </dd>
          {can("member:read") && !members.error ? (
            <>
              <dt>Members</dt>
              <dd data-testid="member-count">{countText(members.data)}</dd>
            </>
          ) : null}
          {can("records:read") && !records.error ? (
            <>
              <dt>Records</dt>
              <dd data-testid="record-count">{countText(records.data)}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      <ErrorNote error={otherError} />
      {can("audit:read") && !events.error ? (
        <>
          <h2>Recent events</h2>
          {events.loading && !events.data ? <Loading what="Loading the latest events" /> : null}
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
    </Page>
  );
};

import { useEffect, useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { EVENT_TYPES } from "../../../src/domain/kernel/model";
import { api, call } from "../api";
import { navigate, useLocation } from "../router";
import { can, session } from "../session";
import { Empty, ErrorNote, Loading, Name, Page, Select, Time } from "../ui";
import { jsonText } from "./records";

type FeedEvent = paths["/org/events"]["get"]["responses"][200]["content"]["application/json"]["events"][number];

/** How often the page asks for new events while it is visible. */
const POLL_MS = 2000;
/** Events asked for at once (the service's largest page). */
const PAGE_LIMIT = 200;
/** The newest events the page keeps; older ones drop off the end of the list. */
const SHOWN = 200;

const isEventType = (value: string): boolean => (EVENT_TYPES as readonly string[]).includes(value);

interface Feed {
  /** Newest first. */
  events: FeedEvent[];
  loading: boolean;
  error: unknown;
  /** Events that came in after the page caught up with the feed. */
  arrived: number;
}

/**
 * The feed, newest first: someone opening it wants what just happened, and new events appear at
 * the top, where they are reading. The service lists events oldest first and only forwards, so
 * the page first reads through to the end (keeping the newest SHOWN), then asks for what follows
 * the last cursor every POLL_MS while the tab is visible; a hidden tab asks for nothing.
 */
const useFeed = (type: string): Feed => {
  const [feed, setFeed] = useState<Feed>({ events: [], loading: true, error: null, arrived: 0 });
  useEffect(() => {
    setFeed({ events: [], loading: true, error: null, arrived: 0 });
    let stopped = false;
    let running = false;
    let caughtUp = false;
    let after: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    /** Every event after the cursor, oldest first (at most SHOWN of them), and how many there were. */
    const readOn = async (): Promise<{ fresh: FeedEvent[]; count: number } | null> => {
      const fresh: FeedEvent[] = [];
      let count = 0;
      for (;;) {
        const page = await call(api.GET("/org/events", { params: { query: { after, limit: PAGE_LIMIT, type: type || undefined } } }));
        if (stopped) return null;
        after = page.next_cursor;
        count += page.events.length;
        fresh.push(...page.events);
        fresh.splice(0, Math.max(0, fresh.length - SHOWN));
        if (!page.has_more) return { fresh, count };
      }
    };

    const poll = async () => {
      timer = undefined;
      if (stopped || running || document.visibilityState !== "visible") return;
      running = true;
      try {
        const read = await readOn();
        if (!read) return;
        const wasCaughtUp = caughtUp;
        caughtUp = true;
        setFeed((previous) => ({
          events: read.count ? [...read.fresh.reverse(), ...previous.events].slice(0, SHOWN) : previous.events,
          loading: false,
          error: null,
          arrived: wasCaughtUp ? previous.arrived + read.count : 0,
        }));
      } catch (error) {
        if (!stopped) setFeed((previous) => ({ ...previous, loading: false, error }));
      } finally {
        running = false;
      }
      if (!stopped && document.visibilityState === "visible") timer = setTimeout(poll, POLL_MS);
    };

    const onVisibility = () => {
      if (document.visibilityState === "visible" && timer === undefined) void poll();
    };
    document.addEventListener("visibilitychange", onVisibility);
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [type]);
  return feed;
};

/**
 * The members' e-mails by user id, to say who made each change. Read once (every page of the
 * member list) when the role may read members; a later joiner's address comes with their
 * `member.joined` event. Without it, members are named by id.
 */
const useMemberEmails = (events: FeedEvent[]): Map<string, string> => {
  const [members, setMembers] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    if (!can("member:read")) return;
    let stopped = false;
    const read = async () => {
      const found = new Map<string, string>();
      let cursor: string | undefined;
      do {
        const page = await call(api.GET("/org/members", { params: { query: { limit: 200, cursor } } }));
        for (const member of page.members) found.set(member.user_id, member.email);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && !stopped);
      if (!stopped) setMembers(found);
    };
    // A failure here costs only the addresses: the feed still names members by id.
    read().catch(() => undefined);
    return () => {
      stopped = true;
    };
  }, []);
  const emails = new Map(members);
  for (const event of events) {
    const { user_id, email } = event.data;
    if (event.type === "member.joined" && typeof user_id === "string" && typeof email === "string" && !emails.has(user_id)) emails.set(user_id, email);
  }
  return emails;
};

const Actor = ({ actor, emails }: { actor: FeedEvent["actor"]; emails: Map<string, string> }) => {
  switch (actor.type) {
    case "user": {
      const email = emails.get(actor.id);
      const you = actor.id === session()?.userId ? " (you)" : "";
      return email ? (
        <span>
          <Name>{email}</Name>
          {you}
        </span>
      ) : (
        <span>
          member <code>{actor.id}</code>
          {you}
        </span>
      );
    }
    case "api_key":
      return (
        <span>
          API key <code>{actor.id}</code>
        </span>
      );
    case "operator":
      return (
        <span>
          the platform's operator (key <code>{actor.key_id}</code>)
        </span>
      );
    case "system":
      return <span>the service</span>;
    case "anonymous":
      return <span>an unknown caller</span>;
  }
};

/** The event's plain values in a line (names, e-mails, roles); the whole data is under "Data". */
const Summary = ({ data }: { data: FeedEvent["data"] }) => {
  const plain = Object.entries(data).filter((entry): entry is [string, string | number | boolean] => ["string", "number", "boolean"].includes(typeof entry[1]));
  if (plain.length === 0) return null;
  return (
    <ul class="events-summary">
      {plain.map(([name, value]) => (
        <li key={name}>
          <span class="events-key">{name}</span> <Name>{String(value)}</Name>
        </li>
      ))}
    </ul>
  );
};

const plural = (count: number, one: string) => `${count} ${one}${count === 1 ? "" : "s"}`;

export const Events = () => {
  const { query } = useLocation();
  const asked = query.get("type") ?? "";
  const type = isEventType(asked) ? asked : "";
  const { events, loading, error, arrived } = useFeed(type);
  const emails = useMemberEmails(events);
  return (
    <Page title="Events">
      <p class="hint">Every change to the organization, newest first. New events appear at the top as they happen while this page is open.</p>
      <div class="events-tools">
        <Select
          label="Event type"
          name="type"
          value={type}
          onValue={(value) => navigate(value ? `/console/events?type=${encodeURIComponent(value)}` : "/console/events", { replace: true })}
          options={[{ value: "", label: "All types" }, ...EVENT_TYPES.map((value) => ({ value, label: value }))]}
        />
        {/* Only the count is announced: the list itself changing would be read out whole. */}
        <p class="events-arrived" role="status" aria-live="polite">
          {arrived ? `${plural(arrived, "new event")} since the page opened` : ""}
        </p>
      </div>
      <ErrorNote error={error} />
      {loading ? (
        <Loading what="Loading events" />
      ) : events.length === 0 ? (
        <Empty>{type ? `No ${type} events in the last 30 days.` : "No events in the last 30 days."}</Empty>
      ) : (
        <>
          {events.length >= SHOWN ? <p class="hint">The newest {SHOWN} events are shown.</p> : null}
          <ol class="events-list" aria-label={type ? `Events of type ${type}` : "Events"}>
            {events.map((event) => (
              <li key={event.id} class="events-item">
                <div class="events-head">
                  <code class="events-type">{event.type}</code>
                  <Time at={event.created_at} />
                  <span class="events-actor">
                    by <Actor actor={event.actor} emails={emails} />
                  </span>
                </div>
                <Summary data={event.data} />
                <details>
                  <summary>Data</summary>
                  <pre>{jsonText(event.data, 2)}</pre>
                </details>
              </li>
            ))}
          </ol>
        </>
      )}
    </Page>
  );
};

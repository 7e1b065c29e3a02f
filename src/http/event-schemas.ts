import { isEventType } from "../domain/kernel/event";
import { EVENT_TYPES, type EventType } from "../domain/kernel/model";
import * as z from "../zod";
import { optionalPageCursor, pageLimitOr } from "./record-schemas";

/** The event feed: its query and its page. */
export const DEFAULT_EVENT_PAGE = 50;
export const MAX_EVENT_PAGE = 200;

/** A feed cursor is the number of the last event a page listed: decimal, as the service gave it. */
const decodeAfter = (text: string): number | null => (/^(0|[1-9][0-9]{0,14})$/.test(text) ? Number(text) : null);

/** `type=a,b`: only events of these types (a page still moves the cursor past the others). */
const eventTypes = () =>
  z
    .optional(
      z.pipe(
        z.string(),
        z.transform((text: string, ctx) => {
          const types = text.split(",").map((t) => t.trim());
          const unknown = types.find((t) => !isEventType(t));
          if (unknown !== undefined) {
            z.refuse(ctx, `Unknown event type: ${unknown.slice(0, 64)}`);
            return z.NEVER;
          }
          return [...new Set(types)] as EventType[];
        }),
      ),
    )
    .register(
      z.globalRegistry,
      __DOCS__ && { description: `Comma-separated event types, of: ${EVENT_TYPES.join(", ")}`, example: "member.joined,member.removed" },
    );

export const EventListQuery = z.lazy(() =>
  z.object({
    after: optionalPageCursor(decodeAfter),
    limit: pageLimitOr(DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE),
    type: eventTypes(),
  }),
);

const actor = () =>
  z
    .union([
      z.object({ type: z.literal("user"), id: z.string() }),
      z.object({ type: z.literal("api_key"), id: z.string() }),
      z.object({ type: z.literal("operator"), key_id: z.string() }),
      z.object({ type: z.literal("system") }),
      z.object({ type: z.literal("anonymous") }),
    ])
    .register(
      z.globalRegistry,
      __DOCS__ && {
        description:
          "Who made the change: a member, one of the organization's API keys (by id), the platform operator, the service itself, or (for a failed login) an unknown caller",
      },
    );

export const EventView = z.lazy(() =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { description: "Stable: a webhook delivery of this event carries it as `webhook-id`" }),
    type: z.enum(EVENT_TYPES),
    created_at: z.iso.datetime(),
    cursor: z.string().register(z.globalRegistry, __DOCS__ && { description: "Pass as `after` to list the events after this one" }),
    organization_id: z.string(),
    actor: actor(),
    data: z.record(z.string(), z.unknown()),
  }),
);

export const EventPage = z.lazy(() =>
  z
    .object({
      events: z.array(EventView),
      next_cursor: z
        .string()
        .register(z.globalRegistry, __DOCS__ && { description: "Pass as `after` for the next page; on the last page, where to resume polling" }),
      has_more: z.boolean(),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          events: [
            {
              id: "evt_6650f1c2e8b3e4a0123456cc",
              type: "member.joined",
              created_at: "2026-01-01T00:00:00.000Z",
              cursor: "7",
              organization_id: "6650f1c2e8b3e4a0123456dd",
              actor: { type: "user", id: "6650f1c2e8b3e4a0123456aa" },
              data: { user_id: "6650f1c2e8b3e4a0123456aa", email: "colleague@testorg.com", role: "member", invitation_id: "6650f1c2e8b3e4a0123456bb" },
            },
          ],
          next_cursor: "7",
          has_more: false,
        },
      },
    ),
);

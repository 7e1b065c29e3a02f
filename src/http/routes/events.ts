import { organizationEvents } from "../../domain/events/outbox";
import { EventListQuery, EventPage } from "../event-schemas";
import { defineRoute, TOKEN_ERRORS } from "../route";

export const listEventsRoute = defineRoute({
  method: "get",
  path: "/org/events",
  permission: "audit:read",
  tag: "events",
  summary: __DOCS__ && "The organization's events, in order, a page at a time",
  description:
    __DOCS__ &&
    "Every change to the organization, in the order it was made, each exactly once: pass `next_cursor` as `after` for the next page, and keep polling with the last one. " +
      "An event is listed if and only if its change happened. Events are kept 30 days.",
  auth: "required",
  request: { query: EventListQuery, blankQueryIsAbsent: true },
  responses: { 200: { description: __DOCS__ && "A page of events", schema: EventPage } },
  errors: [...TOKEN_ERRORS, "VALIDATION_FAILED", "EVENT_CURSOR_INVALID"],
  handler: async ({ deps, caller, input }) => {
    const { after, limit, type } = input.query();
    return { body: await organizationEvents(deps, caller, { after, limit, types: type }) };
  },
});

import * as z from "../zod";
import { isHexId } from "./route";

/**
 * The organization's teams: request and response schemas, built on their first use (a team
 * route's first request, or the OpenAPI document), not at every isolate's start (`z.lazy`).
 */
const exampleId = "6650f1c2e8b3e4a0123456cc";
const exampleUser = "6650f1c2e8b3e4a0123456aa";
const exampleTime = "2026-01-01T00:00:00.000Z";

const name = () =>
  z
    .string()
    .check(z.minLength(1), z.maxLength(100))
    .register(z.globalRegistry, __DOCS__ && { description: "Unique in the organization, whatever its case" });
const description = () =>
  z
    .string()
    .check(z.minLength(1), z.maxLength(200))
    .register(z.globalRegistry, __DOCS__ && { description: "For people: what the team is for" });
const teamRole = () =>
  z.enum(["lead", "member"]).register(z.globalRegistry, __DOCS__ && { description: "`lead`: may add and remove the team's members without `team:manage`" });

export const TeamCreateBody = z.lazy(() =>
  z
    .strictObject({ name: name(), description: z.optional(description()) })
    .register(z.globalRegistry, __DOCS__ && { example: { name: "Finance", description: "Invoices and payouts" } }),
);

export const TeamUpdateBody = z.lazy(() =>
  z
    .strictObject({ name: z.optional(name()), description: z.optional(z.nullable(description())) })
    .check(z.refine((body) => body.name !== undefined || body.description !== undefined, "name name, description or both"))
    .register(z.globalRegistry, __DOCS__ && { example: { name: "Finance and billing" } }),
);

export const TeamMemberBody = z.lazy(() =>
  z
    .strictObject({
      user_id: z.string().check(z.refine(isHexId, "a member's user_id")),
      role: z.optional(teamRole()),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { user_id: exampleUser, role: "member" } }),
);

export const TeamPath = z.lazy(() =>
  z.object({ id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The team's `id`", example: exampleId }) }),
);

export const TeamMemberPath = z.lazy(() =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The team's `id`", example: exampleId }),
    user_id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The member's `user_id`", example: exampleUser }),
  }),
);

const teamView = () =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      description: z.nullable(z.string()),
      members: z.array(z.object({ user_id: z.string(), email: z.string(), role: teamRole() })),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          id: exampleId,
          name: "Finance",
          description: "Invoices and payouts",
          members: [{ user_id: exampleUser, email: "lead@testorg.com", role: "lead" }],
          created_at: exampleTime,
          updated_at: exampleTime,
        },
      },
    );

export const TeamView = z.lazy(teamView);

export const TeamList = z.lazy(() => z.object({ teams: z.array(teamView()) }));

import createClient, { type ClientOptions } from "openapi-fetch";
import type { paths } from "./generated/schema";

export type { components, operations, paths } from "./generated/schema";

/**
 * A typed client of the Organization Management Service: paths, parameters, bodies and every
 * documented answer (errors included) are checked by the compiler, from the same declarations the
 * Worker routes and validates with.
 *
 * `fetch` may be replaced, e.g. by a service binding or, in tests, by the Worker itself.
 */
export const createOrgClient = (options: ClientOptions & { baseUrl: string }) => createClient<paths>(options);

export type OrgClient = ReturnType<typeof createOrgClient>;

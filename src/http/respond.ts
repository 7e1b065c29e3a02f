import type { z } from "zod";

/**
 * Answers with JSON validated by the endpoint's response schema: only the fields the contract
 * names leave the Worker (an internal field such as a hash can never slip into an answer), and a
 * response that breaks the contract fails loudly here instead of reaching a client.
 */
export const jsonOut = (schema: z.ZodType, value: unknown, init?: ResponseInit): Response => Response.json(schema.parse(value), init);

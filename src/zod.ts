// zod's functional build ("zod/mini"): the same parser and issues as `import * as z from "zod"`,
// without the chainable methods, whose classes bring zod's JSON Schema converter into the bundle
// whether or not it is called (about a fifth of the Worker's gzipped bytes; README, "Bundle").
// Schemas here read `z.optional(z.string().check(z.maxLength(9)))` where the classic build reads
// `z.string().max(9).optional()`. The mini build loads no locale: English messages, as the classic
// build gives them, are set once here, so every module takes zod from this file.
import { en } from "zod/locales";
import { config, type core } from "zod/mini";

config(en());

export * from "zod/mini";

/** Inside `z.transform`: records a refusal with this message, as the classic build's `ctx.addIssue`. */
export const refuse = (payload: core.ParsePayload, message: string): void => {
  payload.issues.push({ code: "custom", message, input: payload.value });
};

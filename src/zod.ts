// zod's functional build ("zod/mini"): the same parser and issues as `import * as z from "zod"`,
// without the chainable methods, whose classes bring zod's JSON Schema converter into the bundle
// whether or not it is called (about a fifth of the Worker's gzipped bytes; README, "Bundle").
// Schemas here read `z.optional(z.string().check(z.maxLength(9)))` where the classic build reads
// `z.string().max(9).optional()`. The mini build loads no locale: English messages, as the classic
// build gives them, are set once here, so every module takes zod from this file.
import { en } from "zod/locales";
import { config, type core, type ZodMiniLazy, lazy as zodLazy } from "zod/mini";

config(en());

export * from "zod/mini";

/**
 * zod's `z.lazy`, itself built on first use. Every request, query, path, header and answer schema
 * is a `z.lazy` written at a module's top level, so that its schema is built on its route's first
 * request; but zod builds the lazy wrapper itself when called, and the ninety-odd wrappers took
 * about a millisecond of every isolate's start. This stands in for the wrapper until anything
 * reads it (a parse, or zod reading it inside another schema), then hands every read to zod's own,
 * so the two behave alike from there on. Declared here, it takes the place of zod's in `z.*`.
 */
export const lazy = <T extends core.SomeType>(getter: () => T): ZodMiniLazy<T> => new Proxy<Unbuilt>({ getter }, UNBUILT) as unknown as ZodMiniLazy<T>;

/** A lazy no one has read yet: its getter, and zod's wrapper once built. One handler serves them all. */
interface Unbuilt {
  getter: () => core.SomeType;
  built?: ZodMiniLazy<core.SomeType>;
}

const builtOf = (unbuilt: Unbuilt): ZodMiniLazy<core.SomeType> => (unbuilt.built ??= zodLazy(unbuilt.getter));

const UNBUILT: ProxyHandler<Unbuilt> = {
  get: (unbuilt, key) => Reflect.get(builtOf(unbuilt), key),
  has: (unbuilt, key) => Reflect.has(builtOf(unbuilt), key),
  getPrototypeOf: (unbuilt) => Reflect.getPrototypeOf(builtOf(unbuilt)),
};

/** Inside `z.transform`: records a refusal with this message, as the classic build's `ctx.addIssue`. */
export const refuse = (payload: core.ParsePayload, message: string): void => {
  payload.issues.push({ code: "custom", message, input: payload.value });
};

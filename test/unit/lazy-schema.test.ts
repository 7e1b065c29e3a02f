import { describe, expect, it } from "vitest";
import { lazy as zodLazy } from "zod/mini";
import * as z from "../../src/zod";

// src/zod.ts's `z.lazy` builds nothing until the schema is read, then behaves as zod's own.
describe("z.lazy, built on first use", () => {
  const counted = () => {
    let built = 0;
    const schema = z.lazy(() => {
      built++;
      return z.object({ name: z.string().check(z.minLength(1)), tags: z.optional(z.array(z.string())) });
    });
    return { schema, built: () => built };
  };

  it("builds neither its schema nor zod's wrapper until it is read", () => {
    // zod calls its global config's postProcessor for every schema it constructs.
    const config = z.config() as { postProcessor?: () => void };
    let constructed = 0;
    config.postProcessor = () => constructed++;
    const { schema, built } = (() => {
      try {
        return counted();
      } finally {
        delete config.postProcessor;
      }
    })();
    expect(constructed).toBe(0);
    expect(built()).toBe(0);
    expect(schema.parse({ name: "a" })).toEqual({ name: "a" });
    expect(built()).toBe(1);
    schema.parse({ name: "b" });
    expect(built()).toBe(1);
  });

  it("parses and refuses as zod's own lazy does", () => {
    const { schema } = counted();
    const own = zodLazy(() => z.object({ name: z.string().check(z.minLength(1)), tags: z.optional(z.array(z.string())) }));
    for (const input of [{ name: "a", tags: ["x"] }, { name: "" }, { tags: [1] }, null, "text"]) {
      expect(schema.safeParse(input)).toEqual(own.safeParse(input));
    }
    expect(() => schema.parse({ name: "" })).toThrow(z.core.$ZodError);
  });

  it("works inside other schemas, and with zod's checks on it", () => {
    const { schema } = counted();
    const list = z.object({ items: z.array(schema) });
    expect(list.parse({ items: [{ name: "a" }, { name: "b" }] })).toEqual({ items: [{ name: "a" }, { name: "b" }] });
    expect(list.safeParse({ items: [{ name: "" }] }).success).toBe(false);
    const optional = z.optional(schema);
    expect(optional.parse(undefined)).toBeUndefined();
    const refined = schema.check(z.refine((value) => value.name !== "taken", "taken"));
    expect(refined.safeParse({ name: "taken" }).success).toBe(false);
    expect(refined.safeParse({ name: "free" }).success).toBe(true);
  });

  it("is a zod lazy to anything that asks", () => {
    const { schema } = counted();
    expect(schema instanceof z.ZodMiniLazy).toBe(true);
    expect(schema._zod.def.type).toBe("lazy");
    expect("parse" in schema).toBe(true);
  });

  it("builds a recursive schema, as zod's lazy is there for", () => {
    type Tree = { children: Tree[] };
    const tree: z.ZodMiniType<Tree> = z.lazy(() => z.object({ children: z.array(tree) }));
    expect(tree.parse({ children: [{ children: [] }] })).toEqual({ children: [{ children: [] }] });
    expect(tree.safeParse({ children: [{ children: [1] }] }).success).toBe(false);
  });
});

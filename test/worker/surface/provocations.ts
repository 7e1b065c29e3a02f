import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../../src/domain/kernel/errors";
import { env } from "../../helpers";
import { PROVOKE, SUCCESS, send } from "./cases";
import { documentedExamples, loadDocument, operationOf, schemaProblems } from "./document";
import { documented, key, reuseTenants } from "./reuse";

/**
 * Every provocation against every route, declared or not: whatever a route answers must be in its
 * document. A route that can answer a code it does not declare (login's 429 once was) fails here.
 *
 * On the embedded store only: what it checks is the HTTP layer's documentation, the same code on
 * either store, and most of its pairs (a webhook's limit provoked on /health) touch no store path
 * that the declared codes sent by sweep.test.ts do not. Through the gateway they were two thirds of
 * the MongoDB suites' time, for no path of their own.
 *
 * Apart from sweep.test.ts, in two files of half the routes each (those at even and at odd
 * positions), so that the three files share the cores.
 */
export const provokeEveryRoute = (half: 0 | 1) =>
  describe.skipIf(env.DATA_API_URL)("every answer to every provocation is documented", () => {
    const provocations = Object.entries(PROVOKE).filter(([, provoke]) => provoke) as [ErrorCode, NonNullable<(typeof PROVOKE)[ErrorCode]>][];
    const tenants = reuseTenants(`provoked${half}`);
    const routes = documented.filter((_, i) => i % 2 === half);
    const pairs = routes.flatMap((route) =>
      provocations.filter(([code]) => !route.errors.includes(code)).map(([code, provoke]) => [key(route), code, provoke] as const),
    );

    it.each(pairs)("%s, provoked with %s", async (name, code, provoke) => {
      const [method = "", path = ""] = name.split(" ");
      const op = operationOf(await loadDocument(), method, path);
      const tenant = await tenants.take(name);
      const success = SUCCESS[name];
      if (!success) throw new Error(`no successful request for ${name}`);
      const res = await send(await provoke(success(tenant), tenant, name));
      await tenants.giveBack(name, tenant, code, res);
      expect(Object.keys(op.responses), `${name} answered ${res.status}`).toContain(String(res.status));
      const media = op.responses[String(res.status)]?.content?.["application/json"];
      if (!media?.schema) return;
      const body = (await res.json()) as { detail?: unknown };
      expect(schemaProblems(op, res.status, body)).toEqual([]);
      // An error message is one of the documented ones: several codes share a status (429, 409).
      if (res.status >= 400 && typeof body.detail === "string") expect(documentedExamples(op, res.status)).toContainEqual(body);
    });
  });

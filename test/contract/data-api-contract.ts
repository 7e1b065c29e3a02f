import { describe } from "vitest";
import { atomicityCases } from "./cases/atomicity";
import { collectionCases } from "./cases/collections";
import { documentCases } from "./cases/documents";
import { fencedInsertCases } from "./cases/fenced";
import { indexCases } from "./cases/indexes";
import { limitCases } from "./cases/limits";
import { protocolCases } from "./cases/protocol";
import { typeCases } from "./cases/types";
import { updateCases } from "./cases/updates";
import type { TargetOf } from "./setup";

export type { ContractTarget } from "./target";

/**
 * The Data API semantics the service relies on, written once and run against every server of
 * the protocol (the embedded Durable Object store and the MongoDB gateway), as Hono runs one
 * router suite against each router. A case that passes on one engine and fails on the other
 * is a bug in that engine, not a reason to fork the case.
 */
export const defineDataApiContract = (label: string, target: TargetOf) =>
  describe(`Data API contract: ${label}`, () => {
    documentCases(target);
    fencedInsertCases(target);
    updateCases(target);
    indexCases(target);
    atomicityCases(target);
    collectionCases(target);
    protocolCases(target);
    typeCases(target);
    limitCases(target);
  });

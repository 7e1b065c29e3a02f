import type { Doc } from "../../src/dataapi/engine";
import { type ContractTarget, clientFor, freshDatabase } from "./target";

/** What each contract case starts from: a client on an empty database and its `items` collection. */
export const setup = (target: ContractTarget) => {
  const database = freshDatabase();
  const client = clientFor(target, database);
  return {
    database,
    client,
    items: client.collection("items"),
    /** Actions and options the Worker's Collection does not wrap (insertMany, sorted findOneAndUpdate, upserting replaceOne…). */
    call: <R = Doc>(action: string, body: Doc, collection = "items") => client.call<R>(action, body, collection),
  };
};

/** The cases receive the target lazily: suites resolve it (e.g. from the environment) when they run, not when they are defined. */
export type TargetOf = () => ContractTarget;

import { updateOne } from "mingo/updater";
import type { Doc } from "../dataapi/engine";
import { forMingo } from "./bson-numbers";
import { encodeDocument, ensureId, seedFromFilter } from "./documents";
import { evaluate, expression, MINGO_OPTIONS } from "./mingo";
import { restoreTypes } from "./retype";

const withoutSetOnInsert = (update: Doc | Doc[]): Doc | Doc[] => {
  if (Array.isArray(update) || !("$setOnInsert" in update)) return update;
  const { $setOnInsert: _ignored, ...rest } = update;
  return rest;
};

/** Applies an update to one document; returns the new document, or null when nothing changed. */
export const applyUpdate = (doc: Doc, update: Doc | Doc[]): Doc | null => {
  const given = withoutSetOnInsert(update);
  const docs = [forMingo(doc)];
  evaluate(() => updateOne(docs, {}, expression(given) as Doc, { cloneMode: "copy" }, MINGO_OPTIONS));
  const after = restoreTypes(docs[0] as Doc, { before: doc, update: given });
  return encodeDocument(after) === encodeDocument(doc) ? null : after;
};

/** The document an upsert inserts: the filter's equalities, then `$setOnInsert`, then the update. */
export const upsertedDocument = (filter: Doc, update: Doc | Doc[]): Doc => {
  const seed = seedFromFilter(filter);
  const onInsert = !Array.isArray(update) && update.$setOnInsert ? { $set: update.$setOnInsert } : undefined;
  const withInsert = onInsert ? (applyUpdate(seed, onInsert) ?? seed) : seed;
  return ensureId(applyUpdate(withInsert, update) ?? withInsert);
};

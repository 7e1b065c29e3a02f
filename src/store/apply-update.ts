import { updateOne } from "mingo/updater";
import type { Doc } from "../dataapi/engine";
import { forMingo } from "./bson-numbers";
import { encodeDocument, encodeKey, ensureId, seedFromFilter } from "./documents";
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

/**
 * `$setOnInsert` as a `$set` on the seed. An `_id` in it names the new document's, as MongoDB takes
 * it, when the filter names none or the same one (a whole document re-inserted by its own `_id`);
 * another is left in, for the update to refuse as a change of `_id`.
 */
const onInsertOf = (seed: Doc, update: Doc | Doc[]): Doc | undefined => {
  if (Array.isArray(update) || !update.$setOnInsert) return undefined;
  const { _id, ...fields } = update.$setOnInsert as Doc;
  if (_id === undefined || (seed._id !== undefined && encodeKey(seed._id) !== encodeKey(_id))) return { $set: update.$setOnInsert };
  seed._id = _id;
  return { $set: fields };
};

/** The document an upsert inserts: the filter's equalities, then `$setOnInsert`, then the update. */
export const upsertedDocument = (filter: Doc, update: Doc | Doc[]): Doc => {
  const seed = seedFromFilter(filter);
  const onInsert = onInsertOf(seed, update);
  const withInsert = onInsert ? (applyUpdate(seed, onInsert) ?? seed) : seed;
  return ensureId(applyUpdate(withInsert, update) ?? withInsert);
};

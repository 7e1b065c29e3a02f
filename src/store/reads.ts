import { Aggregator } from "mingo/aggregator";
import { Query } from "mingo/query";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc, FindSpec, Namespace } from "../dataapi/engine";
import { forMingo } from "./bson-numbers";
import { collectionId } from "./catalog";
import { directProjection, directTest, pathTree } from "./direct";
import { encodeKey, inDocumentOrder } from "./documents";
import { inIndexOrder } from "./key-order";
import { evaluate, expression, MINGO_OPTIONS } from "./mingo";
import { candidates, inIdOrder, type Row, type RowSource, whole } from "./query-plan";
import { restoreTypes } from "./retype";
import type { Sql } from "./sql";

/** A row that matched a filter, with the form of its document mingo compared (see `forMingo`). */
export interface Match extends Row {
  view: Doc;
}

/** A projection's direct form, if it has one and narrows the answer at all. */
const narrowing = (projection: Doc | undefined) => (projection && Object.keys(projection).length > 0 ? directProjection(projection) : undefined);

/**
 * A projection of stored documents: typed as stored, in each one's field order (see
 * `inDocumentOrder`). Decided once for every document it is applied to; a document read only
 * along the projection's paths is projected directly, or else read whole for mingo.
 */
const projecting = (projection: Doc | undefined, direct = narrowing(projection)): ((match: Match) => Doc) => {
  if (!projection || Object.keys(projection).length === 0) return (match) => match.doc;
  return (match) => {
    const narrowed = direct?.(match.doc);
    if (narrowed) return narrowed;
    const { doc, view } = match.partial ? matched(whole(match)) : match;
    const [out] = evaluate(() => new Query({}, MINGO_OPTIONS).find([view], expression(projection)).all()) as Doc[];
    return inDocumentOrder(restoreTypes(out ?? {}, { before: doc }), doc);
  };
};

/** A projection of one whole stored document (see `projecting`). */
export const project = (doc: Doc, projection: Doc | undefined): Doc => projecting(projection)(matched({ seq: 0, body: "", doc }));

/** A match whose view (the document as mingo sees it) is built when first asked for: a row decided directly may never need one. */
const matched = (row: Row, view?: Doc): Match => {
  let built = view;
  return {
    ...row,
    get view() {
      built ??= forMingo(row.doc);
      return built;
    },
  };
};

const compiled = (filter: Doc): Query => evaluate(() => new Query(expression(filter), MINGO_OPTIONS));

/**
 * The rows that match a filter, at most `limit`, from `source` or else the planned candidates.
 * `paths`: the only ones the caller reads; when the filter is decided directly too, the rows are
 * typed along them and `_id` alone (`readStoredPaths`), as nothing else will look at them.
 */
export const matching = (sql: Sql, ns: Namespace, filter: Doc, limit = Number.POSITIVE_INFINITY, source?: RowSource, paths?: string[]): Match[] => {
  const coll = collectionId(sql, ns);
  if (coll === undefined || limit <= 0) return [];
  const direct = directTest(filter);
  const typed = direct && paths ? pathTree(["_id", ...Object.keys(filter), ...paths]).tree : undefined;
  // A filter of a shape decided directly is one mingo accepts too: compiled only if a row needs it.
  let query = direct ? undefined : compiled(filter);
  const rows: Match[] = [];
  // Candidates are found by the typed filter (index keys compare numbers by value), tested on views.
  for (const read of source?.(coll, filter, typed) ?? candidates(sql, coll, filter, typed)) {
    const decided = direct?.(read.doc);
    if (decided === false) continue;
    if (decided === true) rows.push(matched(read));
    else {
      const row = whole(read);
      const view = forMingo(row.doc);
      query ??= compiled(filter);
      if (!evaluate(() => query?.test(view))) continue;
      rows.push(matched(row, view));
    }
    if (rows.length >= limit) break;
  }
  return rows;
};

/** `find`: filter, sort, skip, limit and projection. */
export const select = (sql: Sql, ns: Namespace, spec: FindSpec): Doc[] => selectMeasured(sql, ns, spec).docs;

/** `select`, with the length of the stored text its documents were read from (what a cache of them holds on to). */
export const selectMeasured = (sql: Sql, ns: Namespace, spec: FindSpec): { docs: Doc[]; textLength: number } => {
  const skip = spec.skip ?? 0;
  const limit = spec.limit ?? Number.POSITIVE_INFINITY;
  const sortKeys = Object.keys(spec.sort ?? {});
  const idOrder = sortKeys.length === 1 && sortKeys[0] === "_id" ? spec.sort?._id : undefined;
  const source = idOrder ? inIdOrder(sql, ns, idOrder) : sortKeys.length > 0 ? inIndexOrder(sql, ns, spec.sort ?? {}, spec.filter) : undefined;
  // Without a sort, or in _id or an index's order from SQLite, the scan stops as soon as the page is full.
  const early = sortKeys.length === 0 || source !== undefined;
  // A projection decided directly reads only its paths (and the sort's), when rows come in order and mingo never sees them.
  const narrow = narrowing(spec.projection);
  const paths = early && narrow ? [...Object.keys(spec.projection ?? {}), ...sortKeys] : undefined;
  let rows = matching(sql, ns, spec.filter, early ? skip + limit : Number.POSITIVE_INFINITY, source, paths);
  // Rows read in the sort's order need no sorting (the early stop already relies on that order).
  if (sortKeys.length > 0 && source === undefined) {
    // mingo sorts the views it is given (the same objects, reordered); each leads back to its row.
    const byView = new Map(rows.map((r) => [r.view, r]));
    const sorted = evaluate(() =>
      new Query({}, MINGO_OPTIONS)
        .find(rows.map((r) => r.view))
        .sort(spec.sort as Record<string, 1 | -1>)
        .all(),
    );
    rows = sorted.map((view) => byView.get(view as Doc) as Match);
  }
  const projected = projecting(spec.projection, narrow);
  const page = rows.slice(skip, Number.isFinite(limit) ? skip + limit : undefined);
  let textLength = 0;
  for (const row of page) textLength += row.body.length;
  return { docs: page.map(projected), textLength };
};

export const aggregate = (sql: Sql, ns: Namespace, pipeline: Doc[]): Doc[] => {
  // Stages that reach other collections were refused by the protocol handler.
  const first = pipeline[0];
  // A leading $match narrows the input through the same index-aware path as find.
  const input = first && "$match" in first ? matching(sql, ns, first.$match as Doc) : matching(sql, ns, {});
  const out = evaluate(() => new Aggregator(expression(pipeline), MINGO_OPTIONS).run(input.map((r) => r.view)) as Doc[]);
  // A result that kept its _id gets its numbers' types from the document it came from.
  const byId = new Map(input.map((r) => [encodeKey(r.doc._id), r.doc]));
  return out.map((doc) => restoreTypes(doc, { before: isPlainObject(doc) ? byId.get(encodeKey(doc._id)) : undefined, update: pipeline }));
};

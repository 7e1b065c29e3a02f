import { Context } from "mingo/core";
import { $addToSet, $avg, $count as $countOf, $first, $last, $max, $min, $push, $sum } from "mingo/operators/accumulator";
import { $literal } from "mingo/operators/expression";
import * as arithmetic from "mingo/operators/expression/arithmetic";
import * as boolean from "mingo/operators/expression/boolean";
import * as comparison from "mingo/operators/expression/comparison";
import * as conditional from "mingo/operators/expression/conditional";
import {
  $addFields,
  $bucket,
  $bucketAuto,
  $count,
  $facet,
  $group,
  $limit,
  $match,
  $project,
  $replaceRoot,
  $replaceWith,
  $sample,
  $set,
  $skip,
  $sort,
  $sortByCount,
  $unset,
  $unwind,
} from "mingo/operators/pipeline";
import { $elemMatch as $elemMatchProjection, $slice } from "mingo/operators/projection";
import { $all, $elemMatch, $size } from "mingo/operators/query/array";
import { $bitsAllClear, $bitsAllSet, $bitsAnyClear, $bitsAnySet } from "mingo/operators/query/bitwise";
import { $eq, $gt, $gte, $in, $lt, $lte, $ne, $nin } from "mingo/operators/query/comparison";
import { $exists, $type } from "mingo/operators/query/element";
import { $expr, $mod, $regex } from "mingo/operators/query/evaluation";
import { $and, $nor, $not, $or } from "mingo/operators/query/logical";
import { DataApiError } from "../dataapi/errors";
import { forMingo } from "./bson-numbers";

/**
 * The operators the embedded store evaluates. mingo's default entry registers every operator it
 * has (dates, strings, trigonometry, window functions…): nearly half of mingo's code, which no
 * request of the Data API contract reaches and every isolate would parse at start. Registered:
 *
 * - query: the whole filter language but `$where` (refused before it gets here: it runs code)
 *   and `$jsonSchema` (the store has no schema validator to run it);
 * - projection: `$elemMatch`, `$slice`;
 * - update: every update operator (mingo's updater carries its own, all of them);
 * - pipeline: exactly the stages `aggregate` allows (ALLOWED_STAGES in src/dataapi/forbidden.ts);
 * - accumulator: the ones `$group` and `$bucket` are commonly written with (`$sortByCount`
 *   counts with `$sum`);
 * - expression: boolean, comparison, conditional and arithmetic operators, and `$literal`.
 *
 * Anything else is 400 InvalidParameter from this store (see `evaluate`); MongoDB behind the
 * gateway has it all. test/store/mingo-operators.test.ts proves every operator the contract
 * suite uses is here.
 */
export const OPERATORS = {
  query: {
    $eq,
    $ne,
    $gt,
    $gte,
    $lt,
    $lte,
    $in,
    $nin,
    $and,
    $or,
    $nor,
    $not,
    $exists,
    $type,
    $expr,
    $mod,
    $regex,
    $all,
    $elemMatch,
    $size,
    $bitsAllClear,
    $bitsAllSet,
    $bitsAnyClear,
    $bitsAnySet,
  },
  projection: { $elemMatch: $elemMatchProjection, $slice },
  pipeline: {
    $match,
    $project,
    $addFields,
    $set,
    $unset,
    $sort,
    $limit,
    $skip,
    $group,
    $count,
    $unwind,
    $replaceRoot,
    $replaceWith,
    $facet,
    $bucket,
    $bucketAuto,
    $sortByCount,
    $sample,
  },
  accumulator: { $sum, $avg, $min, $max, $first, $last, $push, $addToSet, $count: $countOf },
  expression: { ...boolean, ...comparison, ...conditional, ...arithmetic, $literal },
};

/** Scripts are refused before they get here; mingo is told the same so nothing slips through. */
export const MINGO_OPTIONS = { scriptEnabled: false, context: Context.init(OPERATORS) } as const;

/** Runs mingo on caller-supplied expressions: its complaints (an unknown operator among them) are the caller's bad parameters. */
export const evaluate = <T>(run: () => T): T => {
  try {
    return run();
  } catch (error) {
    if (error instanceof DataApiError) throw error;
    throw new DataApiError("InvalidParameter", error instanceof Error ? error.message : "invalid expression");
  }
};

/** A caller's filter, update or pipeline as mingo evaluates it: JS numbers and JS regexes. */
export const expression = <T>(value: T): T => forMingo(value, true);

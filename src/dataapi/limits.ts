import { DataApiError } from "./errors";

/**
 * Bounds that keep one request within the operation deadline, on both engines. MongoDB's own
 * bulk bound (maxWriteBatchSize) is 100,000; on FerretDB, the test stand-in, 10,000 empty
 * documents take about 0.35 s and 10,000 of 1.6 KB (16 MiB) about 1.3 s on two busy cores.
 */
export const MAX_BULK_DOCUMENTS = 10_000;

/** MongoDB allows 64 indexes per collection, so one request never needs more. */
export const MAX_INDEXES_PER_REQUEST = 64;

/**
 * JSON values (objects, arrays, members and elements) one body may hold. Decoding EJSON costs
 * about 5 µs per value on a busy core and blocks the process while it runs, so a 6 MB body of
 * two million empty documents would hold every other request up for seconds before any count
 * could be checked. The body is therefore counted, without decoding, before it is parsed.
 */
export const MAX_BODY_VALUES = 100_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/**
 * Counts, outside strings, every `{`, `[` and `,`: each opens a value or separates two, so the
 * sum bounds the number of values (member keys aside) within one. Malformed text is left to the parser.
 */
export const countJsonValues = (text: string): number => {
  let count = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === COMMA || c === OPEN_BRACE || c === OPEN_BRACKET) count++;
  }
  return count;
};

export const assertBodyValueBudget = (text: string, maxValues = MAX_BODY_VALUES): void => {
  if (countJsonValues(text) > maxValues) throw new DataApiError("PayloadTooLarge", `request body holds more than ${maxValues} JSON values`);
};

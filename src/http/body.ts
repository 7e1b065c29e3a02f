import { readBodyText } from "../dataapi/body";
import { DataApiError } from "../dataapi/errors";
import { AppError } from "../domain/kernel/errors";
import type * as z from "../zod";
import { ValidationError } from "./http-error";
import { parseOrThrow } from "./validation";

const isJsonMediaType = (contentType: string | null): boolean => {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
};

/**
 * Reads a JSON body within `maxBytes` and validates it: a wrong media type is a 415, an
 * oversized body a 413, malformed JSON and schema violations FastAPI's 422.
 */
export const readJson = async <S extends z.ZodMiniType>(request: Request, schema: S, maxBytes: number): Promise<z.infer<S>> => {
  if (!isJsonMediaType(request.headers.get("content-type"))) throw new AppError("UNSUPPORTED_MEDIA_TYPE");
  let text: string;
  try {
    text = await readBodyText(request, maxBytes);
  } catch (error) {
    if (error instanceof DataApiError && error.code === "PayloadTooLarge") throw new AppError("PAYLOAD_TOO_LARGE");
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError([{ loc: ["body", 0], msg: "JSON decode error", type: "json_invalid" }]);
  }
  return parseOrThrow(schema, value, "body");
};

import { DataApiError } from "./errors";

/** Reads a request body as text, refusing it as soon as it passes `maxBytes`. */
export const readBodyText = async (request: Request, maxBytes: number): Promise<string> => {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new DataApiError("PayloadTooLarge", `request body exceeds ${maxBytes} bytes`);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new DataApiError("PayloadTooLarge", `request body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
};

/** The token of an `Authorization: Bearer …` header, or null when there is none. */
export const bearerToken = (request: Request): string | null => {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i);
  return match?.[1] ?? null;
};

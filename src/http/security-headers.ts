/** On every answer (src/http/headers.ts), and priced by the bench's bare Worker, which writes them out alike. */
export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  // The docs pages load their scripts and styles from this origin only; Swagger UI needs inline styles.
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
};

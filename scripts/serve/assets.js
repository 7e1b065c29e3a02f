// The service's ASSETS binding under `npm run serve`: the files of public/ from workerd's disk
// service, which sends every file as application/octet-stream, with the type a browser needs for
// the docs pages' scripts and styles. Read-only, dotfiles refused by workerd, and reached only
// through the service (which runs first for every request, as `run_worker_first` says).
const TYPES = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
  txt: "text/plain; charset=utf-8",
};

export default {
  async fetch(request, env) {
    if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405 });
    const file = await env.FILES.fetch(request);
    // A folder answers with its listing as JSON: not a file the docs pages use.
    if (!file.ok || new URL(request.url).pathname.endsWith("/") || file.headers.get("content-type") === "application/json")
      return new Response(null, { status: 404 });
    const extension = new URL(request.url).pathname.split(".").pop() ?? "";
    const headers = new Headers(file.headers);
    headers.set("content-type", TYPES[extension] ?? "application/octet-stream");
    return new Response(file.body, { status: file.status, headers });
  },
};

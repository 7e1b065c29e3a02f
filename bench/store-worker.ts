// An HTTP window onto the embedded store, for `npm run bench:rename` only: a Durable Object is
// reachable only through a Worker, and the benchmark drives both stores with the same protocol.
// Every action goes to one Durable Object, as the service sends every action for its one
// database to one; the body is not read here, so the Worker adds no cost that grows with it.
import { DataStore } from "../src/store/data-store";

export { DataStore };

interface BenchEnv {
  DATA_STORE: DurableObjectNamespace;
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST" || !new URL(request.url).pathname.startsWith("/action/")) return new Response("not found", { status: 404 });
    return env.DATA_STORE.get(env.DATA_STORE.idFromName("bench")).fetch(request);
  },
} satisfies ExportedHandler<BenchEnv>;

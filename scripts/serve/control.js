// The scheduled event's trigger under `npm run serve`, where no Cron Trigger exists: serve's
// clock posts here, on a loopback socket of its own, and this Worker runs the service's
// `scheduled` handler as a Cron Trigger would. It answers only a request that carries the token
// serve made at start (CONTROL_TOKEN), so no other local process can fire it.
export default {
  async fetch(request, env) {
    if (request.method !== "POST" || request.headers.get("authorization") !== `Bearer ${env.CONTROL_TOKEN}`) return new Response(null, { status: 404 });
    const { cron, scheduledTime } = await request.json();
    try {
      // Some workerd versions answer with { outcome }, others with nothing when the handler returned.
      const result = await env.API.scheduled({ cron, scheduledTime: new Date(scheduledTime) });
      return Response.json({ outcome: result?.outcome ?? "ok" });
    } catch (error) {
      return Response.json({ outcome: `exception: ${error?.message ?? error}` });
    }
  },
};

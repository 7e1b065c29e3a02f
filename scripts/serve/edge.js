// The first Worker of every request under `npm run serve`, in front of the service: what
// Cloudflare's edge does for a deployed Worker that the service relies on. It sets
// `cf-connecting-ip` (the login throttle's key) to the address of the TCP peer, which workerd
// reports as `request.cf.clientIp`. A client's own `cf-connecting-ip` never gets here: the socket
// removes it (workerd.capnp's injectRequestHeaders), unless serve was told that a proxy in front
// sets it (TRUST_PROXY), and then the proxy's value is kept.
export default {
  fetch(request, env) {
    if (request.headers.has("cf-connecting-ip")) return env.API.fetch(request);
    const peer = request.cf?.clientIp;
    if (!peer) return env.API.fetch(request);
    const forwarded = new Request(request);
    forwarded.headers.set("cf-connecting-ip", withoutPort(peer));
    return env.API.fetch(forwarded);
  },
};

/** "127.0.0.1:41234" → "127.0.0.1", "[::1]:41234" → "::1". */
const withoutPort = (address) => {
  const v6 = /^\[(.*)\]:\d+$/.exec(address);
  if (v6) return v6[1];
  const colon = address.lastIndexOf(":");
  return colon > 0 && address.indexOf(":") === colon ? address.slice(0, colon) : address;
};

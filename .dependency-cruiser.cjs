/**
 * The import rules `npm run deps:check` enforces (dependency-cruiser): no cycle anywhere, a kernel
 * that knows no feature, and a domain that knows nothing of HTTP.
 */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes modules that cannot be read, tested or loaded one without the other.",
      from: {},
      to: { circular: true },
    },
    {
      name: "kernel-knows-no-feature",
      severity: "error",
      comment: "The kernel (model, deps, guard, operations, leases) is what features share: it imports none of them.",
      from: { path: "^src/domain/kernel/" },
      to: { path: "^src/domain/", pathNot: "^src/domain/kernel/" },
    },
    {
      name: "domain-knows-no-http",
      severity: "error",
      comment: "The domain is called by routes, the cron and Durable Objects alike: it never imports them.",
      from: { path: "^src/domain/" },
      to: { path: "^src/(http|dataapi/handler|index|scheduled|webhook-dispatcher)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "(^|/)(node_modules|dist|\\.cache)/" },
  },
};

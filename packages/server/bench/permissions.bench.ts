// Cost of the permission checks on the hot path (issue 14): what the router
// adds per message when the connection has rules, against no rules at all
// (the check is then one property read: `rec.permissions === undefined`).
//
//   pnpm bench:permissions
//
// The end-to-end figures (routing over TCP with and without rules) come
// from `pnpm bench:routing --server '{"permissions":[…]}'`, see
// docs/PERFORMANCE.md.
import { Bench } from "tinybench";
import { ConnectionPermissions, IdRule, SubjectRule, compileGrant } from "../src/internal.js";

const node = { nodeId: "sensor-17", labels: { tenant: "acme", role: "sensor" } };
const rules = compileGrant(
  {
    publish: { allow: ["telemetry.{nodeId}.>", "events.{labels.tenant}.*"], deny: ["telemetry.*.secret", "events.*.admin"] },
    subscribe: { allow: ["commands.{nodeId}", "public.>"], deny: ["public.secret"] },
    send: { allow: ["ops-*", "gateway-*"], deny: ["ops-root"] },
  },
  node,
);
const none: ConnectionPermissions | undefined = undefined as ConnectionPermissions | undefined;
// 100 subjects a node keeps publishing to (steady state: each verdict is cached after its first check).
const steady = Array.from({ length: 100 }, (_, i) => `telemetry.sensor-17.metric${i}`);
// Always new subjects: no cache hit, the patterns are matched every time (the worst case).
let fresh = 0;
const publishRule = rules.publish as SubjectRule;
const wide = new SubjectRule(["public.>"], ["public.secret", "public.*.internal"]);
const ids = new IdRule(["ops-*", "gateway-*"], ["ops-root"]);

let sink = 0;
let i = 0;
const bench = new Bench({ time: 1_500, warmupTime: 300 });
bench
  .add("no rules: rec.permissions === undefined (the default)", () => {
    const s = steady[i++ % 100] as string;
    if (none === undefined || none.mayPublish(s)) sink++;
  })
  .add("publish, rules, steady subjects (cached verdict)", () => {
    if (rules.mayPublish(steady[i++ % 100] as string)) sink++;
  })
  .add("publish, rules, a new subject every time (2 allow + 2 deny patterns matched)", () => {
    if (publishRule.allows(`telemetry.sensor-17.m${fresh++}`)) sink++;
  })
  .add("fan-out filter of a wider subscription: deny.denies(subject), cached", () => {
    if (!wide.denies(`public.news${i++ % 100}`)) sink++;
  })
  .add("send, rules: 2 allow + 1 deny node id globs", () => {
    if (ids.allows(`gateway-${i++ % 100}`)) sink++;
  })
  .add("subscribe, rules: coverage of a pattern (per Subscribe, not per message)", () => {
    if (rules.subscribe !== true && rules.subscribe !== false && rules.subscribe.subscribe("public.news.>") === "allow") sink++;
  });
await bench.run();
console.table(bench.table());
console.log(`node ${process.version}, ${(await import("node:os")).cpus()[0]?.model}; sink ${sink > 0}`);

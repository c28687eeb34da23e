// The relay hot path: one Publish to N subscribers.
//
//   npx tsx packages/codec/bench/encode-delivery.bench.ts [--subscribers 100]
//
// "full encode per delivery": what a naive router does, a Frame built and
// encoded (toBinary + length prefix) for each subscriber.
// "encode once + heads": encodeDelivery() once, then a relayHead() per
// subscriber; "cached heads": as subscriptions do, reusing the head of the
// last body length.
// Both produce the same wire bytes per subscriber.
import { toBinary } from "@bufbuild/protobuf";
import { DeliveryKind, FrameSchema, makeFrame, varintSize, writeVarint32 } from "@hb/codec";
import { Bench } from "tinybench";
import { encodeDelivery } from "../src/encode-delivery.js";
import { DELIVERY_FIELD, relayHead } from "../src/relay-head.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("subscribers", 100);
const subject = "telemetry.eu.fr.sensor";
const from = "sensor-0042";
let sink = 0;

const bench = new Bench({ time: 1_000 });
for (const size of [100, 16 * 1024]) {
  const payload = new Uint8Array(size).fill(7);
  bench.add(`${size} B × ${N}: full encode per delivery`, () => {
    for (let ch = 1; ch <= N; ch++) {
      const body = toBinary(
        FrameSchema,
        makeFrame("delivery", { kind: DeliveryKind.PUBLISH, subject, fromNodeId: from, payload }, ch),
      );
      const wire = new Uint8Array(varintSize(body.length) + body.length);
      wire.set(body, writeVarint32(wire, 0, body.length));
      sink += wire.length;
    }
  });
  bench.add(`${size} B × ${N}: encode once + heads`, () => {
    const body = encodeDelivery(DeliveryKind.PUBLISH, subject, from, payload, 0n, "");
    for (let ch = 1; ch <= N; ch++) sink += relayHead(ch, DELIVERY_FIELD, body.length).length + body.length;
  });
  // What Subscription.relay does for same-size messages: the head of the last body length is reused.
  const cached = Array.from({ length: N }, (_, i) => ({ len: -1, head: new Uint8Array(0) as Uint8Array, ch: i + 1 }));
  bench.add(`${size} B × ${N}: encode once + cached heads`, () => {
    const body = encodeDelivery(DeliveryKind.PUBLISH, subject, from, payload, 0n, "");
    for (const c of cached) {
      if (c.len !== body.length) {
        c.head = relayHead(c.ch, DELIVERY_FIELD, body.length);
        c.len = body.length;
      }
      sink += c.head.length + body.length;
    }
  });
}
await bench.run();
console.table(
  bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number }; throughput?: { mean: number } };
    const mean = r.latency?.mean ?? Number.NaN; // ms per publish
    return { task: t.name, "µs per publish": (mean * 1000).toFixed(2), "ns per delivery": ((mean * 1e6) / N).toFixed(0) };
  }),
);
if (sink === 42) console.log(sink);

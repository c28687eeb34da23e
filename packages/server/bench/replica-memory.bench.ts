// Heap per remote node of a worker's replica of the directory (issue 13: memory per connection with workers).
//
//   node --expose-gc --import tsx packages/server/bench/replica-memory.bench.ts [--nodes 100000]
//
// A worker keeps every node of the other workers: the IPC link's BusDirectory (the view and the per-member
// holdings, fed by the hub's presence messages, decoded as a worker decodes them) and RemoteNodes' join times.
// This applies --nodes `joined` changes from 5 other members (labels { bench: "scale" }, as bench:scale's
// fleet) and reports the live heap each part holds per node, after full GCs. With 6 workers each holds the
// nodes of the other 5, and the primary holds them all once more (the hub's directory and its own RemoteNodes).
import { BusDirectory } from "../src/bus/bus-directory.js";
import { decodePresenceMessage, encodePresenceMessage } from "../src/bus/presence-codec.js";
import type { BusPresence } from "../src/core/ports/bus-link.js";

const i = process.argv.indexOf("--nodes");
const N = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const used = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
// A change as the hub relays it (encoded by the worker holding the node).
const body = (k: number): Uint8Array => {
  const e: BusPresence = {
    kind: "joined",
    nodeId: `fleet-${k % 13}-${k}`,
    labels: { bench: "scale" },
    reason: "hello",
    time: Date.now(),
    memberId: `w${1 + (k % 5)}`,
  };
  return encodePresenceMessage({ type: "event", seq: k, event: e });
};
body(0);
const h0 = used();
const dir = new BusDirectory("w6");
// RemoteNodes keeps when it learnt of each remote node (presence/remote-nodes.ts, #seen).
const seen = new Map<string, number>();
const out: BusPresence[] = [];
for (let k = 0; k < N; k++) {
  const m = decodePresenceMessage(body(k));
  if (m.type !== "event") continue;
  dir.apply(m.event, out);
  seen.set(m.event.nodeId, m.event.time);
  out.length = 0;
}
const h1 = used();
const kept = seen.size;
seen.clear();
const h2 = used();
console.log(
  `${N.toLocaleString("en")} remote nodes (${kept === dir.view.size ? "all kept" : "MISMATCH"}): ` +
    `BusDirectory ${((h2 - h0) / N).toFixed(0)} B/node, RemoteNodes join times ${((h1 - h2) / N).toFixed(0)} B/node, ` +
    `replica ${((h1 - h0) / N).toFixed(0)} B/node (node ${process.version})`,
);

import { HeartbeatServer } from "@hb/server";
import { ChurnNode } from "./src/soak/churn-node.js";
const gc = (globalThis as any).gc;
const server = new HeartbeatServer({ host: "127.0.0.1", workerCount: Number(process.env.W ?? 2), heartbeatInterval: 1000, heartbeatTimeout: 3000, minHeartbeatInterval: 100, heartbeatCheckInterval: 250 });
const { port } = await server.listen();
const watcher = await ChurnNode.join(port, "w", 500);
watcher.subscribe("$hb.presence", 1);
let id = 0;
const t0 = Date.now();
for (let round = 0; round < 12; round++) {
  const batch: ChurnNode[] = [];
  for (let i = 0; i < 400; i++) batch.push(await ChurnNode.join(port, `n-${id++}`, 500));
  for (const [i, n] of batch.entries()) if (i % 2 === 0) n.leave(); else n.destroy();
  await new Promise((r) => setTimeout(r, 4000));
  gc(); gc();
  const s = server.stats();
  console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s joined ${s.joined} online ${s.online} primary heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(2)} MiB; workers heap ${(s.workers ?? []).map((w) => ((w.process?.heapUsed ?? 0) / 2 ** 20).toFixed(1)).join(" ")}`);
}
watcher.destroy();
await server.close();
process.exit(0);

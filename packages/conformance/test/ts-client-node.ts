/**
 * The node that node-mode conformance runs against @hb/client: a
 * HeartbeatClient with default options connecting to HB_ADDR, taking its
 * credential from HB_TOKEN_FILE (a token provider: read afresh for every
 * connection and renewal), that leaves gracefully (`close()`: Goodbye) on
 * SIGTERM.
 *
 * Run: node --import tsx packages/conformance/test/ts-client-node.ts
 */
import { readFileSync } from "node:fs";
import { HeartbeatClient } from "@hb/client";

const [host, port] = (process.env.HB_ADDR ?? "127.0.0.1:9501").split(":");
const tokenFile = process.env.HB_TOKEN_FILE;
const client = new HeartbeatClient({
  host: host as string,
  port: Number(port),
  nodeId: process.env.HB_NODE_ID ?? `ts-client-${process.pid}`,
  clientName: "conformance ts-client-node",
  token: tokenFile === undefined ? undefined : () => readFileSync(tokenFile, "utf8").trim(),
});
client.on("error", () => {}); // reported through disconnect/reconnect; keep the process alive

process.on("SIGTERM", () => {
  void client.close().then(() => process.exit(0));
});

try {
  await client.connect();
} catch (err) {
  console.error(`connect failed: ${(err as Error).message}`);
  process.exit(1);
}

#!/usr/bin/env node
// hb: the operator CLI of an hb bus (like the nats CLI).
import type { HeartbeatClient } from "@hb/client";
import { Command } from "commander";
import { AdminClient, AdminError } from "../hb/admin-client.js";
import { benchCommand } from "../hb/commands/bench.js";
import { pubCommand, readStdin, reqCommand, sendCommand, subCommand } from "../hb/commands/messaging.js";
import { nodeCommand, nodesCommand } from "../hb/commands/nodes.js";
import { statsCommand } from "../hb/commands/stats.js";
import { watchCommand } from "../hb/commands/watch.js";
import { collectLabel } from "../hb/label-args.js";
import { toolClient } from "../hb/tool-client.js";
import { cliVersion } from "../version.js";

const version = cliVersion();
const out = (text: string): void => void process.stdout.write(`${text}\n`);
const aborter = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (aborter.signal.aborted) process.exit(130);
    aborter.abort();
  });
}

const program = new Command("hb")
  .description("Operate an hb bus: list and watch nodes, read stats, publish, subscribe, request, load-test.")
  .version(`hb ${version} (node ${process.version})`, "-V, --version", "print the version")
  .helpOption("-h, --help", "show this help")
  .option("--admin <url>", "hb-server's admin endpoint (HB_ADMIN_URL)", process.env.HB_ADMIN_URL ?? "http://127.0.0.1:9502")
  .option("--token <token>", "admin bearer token (HB_ADMIN_TOKEN)", process.env.HB_ADMIN_TOKEN)
  .option("--server <host:port>", "node port, for pub/sub/req/send/bench (HB_SERVER)", process.env.HB_SERVER ?? "127.0.0.1:9501")
  .option("--node-token <token>", "Hello token for pub/sub/req/send, when the server authenticates (HB_NODE_TOKEN)", process.env.HB_NODE_TOKEN)
  .showHelpAfterError("(hb --help lists the commands)")
  .addHelpText(
    "after",
    `
nodes, node, watch and stats read hb-server's admin endpoint: they are not
nodes and never appear in presence. pub, sub, req and send connect to the
node port as a short-lived node (id hb-cli-<random>, label hb.tool=cli).

Examples:
  hb nodes --label region=eu --state suspect
  hb watch --label role=sensor
  hb stats
  hb sub 'config.>'            hb pub config.eu '{"rate":5}'
  hb req svc.status ping       hb req --node sensor-1 status
  hb bench --nodes 1000 --duration 30s --interval 1s`,
  );

const globals = () => program.opts<{ admin: string; token?: string; server: string; nodeToken?: string }>();
const admin = () => new AdminClient(globals().admin, globals().token);
// Runs a command with a node connection, closed afterwards.
async function withClient(fn: (c: HeartbeatClient) => Promise<void>): Promise<void> {
  const client = await toolClient(globals().server, globals().nodeToken, version);
  try {
    await fn(client);
  } finally {
    await client.close();
  }
}
const payloadOf = async (given: string | undefined): Promise<string> => given ?? (process.stdin.isTTY ? "" : await readStdin());

program
  .command("nodes")
  .description("list nodes (with filters); counts come from the server, never a scan")
  .option("--label <k=v>", "only nodes with this label (repeatable)", collectLabel)
  .option("--state <state>", "online or suspect")
  .option("--limit <n>", "most nodes to list (default 100, at most 10000)")
  .option("--json", "JSON output")
  .action((opts) => nodesCommand(admin(), opts, out));
program
  .command("node")
  .argument("<id>", "node id")
  .description("one node's details")
  .option("--json", "JSON output")
  .action(async (id: string, opts) => {
    if (!(await nodeCommand(admin(), id, opts, out))) process.exitCode = 1;
  });
program
  .command("watch")
  .description("follow presence changes as they happen (Ctrl-C to stop)")
  .option("--label <k=v>", "only nodes with this label (repeatable)", collectLabel)
  .option("--count <n>", "stop after n changes")
  .option("--json", "one JSON object per line")
  .action((opts) => watchCommand(admin(), opts, out, aborter.signal));
program
  .command("stats")
  .description("the server at a glance: fleet, rates, latency, loop lag, errors, workers, bus")
  .option("--json", "the raw /v1/stats JSON")
  .action((opts) => statsCommand(admin(), opts, out));
program
  .command("pub")
  .argument("<subject>", "concrete subject")
  .argument("[payload]", "payload (default: standard input); {{n}} is replaced by the message number")
  .description("publish to a subject")
  .option("--count <n>", "publish n messages", "1")
  .action(async (subject: string, payload: string | undefined, opts) => {
    const p = await payloadOf(payload);
    await withClient((c) => pubCommand(c, subject, p, opts, out));
  });
program
  .command("sub")
  .argument("<subject>", "subject or pattern (* one token, > the rest)")
  .description("print the messages published to a subject (Ctrl-C to stop)")
  .option("--count <n>", "stop after n messages")
  .option("--json", "one JSON object per line")
  .action((subject: string, opts) => withClient((c) => subCommand(c, subject, opts, out, aborter.signal)));
program
  .command("req")
  .argument("<target>", "subject (first subscriber's reply wins), or a node id with --node")
  .argument("[payload]", "payload (default: standard input)")
  .description("send a request and print the reply")
  .option("--node", "the target is a node id")
  .option("--timeout <duration>", "how long to wait for the reply", "5s")
  .action(async (target: string, payload: string | undefined, opts) => {
    const p = await payloadOf(payload);
    await withClient((c) => reqCommand(c, target, p, opts, out));
  });
program
  .command("send")
  .argument("<node>", "node id")
  .argument("[payload]", "payload (default: standard input)")
  .description("send a direct message to one node")
  .action(async (node: string, payload: string | undefined) => {
    const p = await payloadOf(payload);
    await withClient((c) => sendCommand(c, node, p, out));
  });
program
  .command("bench")
  .description("load generator: N nodes heartbeating; progress, then connections, heartbeats/s and RTT percentiles")
  .option("--nodes <n>", "nodes to connect (at most 10000 per process)", "100")
  .option("--duration <duration>", "how long to measure", "10s")
  .option("--interval <duration>", "heartbeat interval the nodes ask for", "1s")
  .option("--concurrency <n>", "handshakes in flight at once", "100")
  .option("--prefix <text>", "node ids are <prefix>-<i>", "bench")
  .option("--label <k=v>", "label every bench node (repeatable)", collectLabel)
  .option("--no-progress", "no progress bar")
  .option("--json", "JSON summary")
  .action(async (opts) => {
    await benchCommand(globals().server, opts, out, aborter.signal);
  });

try {
  await program.parseAsync();
} catch (err) {
  const message = err instanceof AdminError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`hb: ${message}\n`);
  process.exitCode = 1;
}

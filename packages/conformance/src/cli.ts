#!/usr/bin/env tsx
/**
 * Command line of the conformance runner:
 *
 *   pnpm conformance --server 127.0.0.1:9501 [options]
 *   pnpm conformance --node "<command>" [options]
 *
 * Prints `PASS <name>` / `FAIL <name>: <reason>` / `SKIP <name>: <why>` per
 * scenario and a summary (or, with --json, one JSON document), and exits
 * with 1 if any scenario failed, 2 on a usage error.
 */
import { parseArgs } from "node:util";
import { runNodeConformance } from "./run-node-conformance.js";
import { runServerConformance } from "./run-server-conformance.js";
import { filterScenarios } from "./scenario-filter.js";
import { type ScenarioResult, formatResult, formatSummary, summarizeResults } from "./scenario-result.js";
import { nodeScenarios } from "./scenarios/node/index.js";
import { serverScenarios } from "./scenarios/server/index.js";

const USAGE = `Usage:
  pnpm conformance --server <host:port> [options]   test a server over raw TCP
  pnpm conformance --node "<command>" [options]     test a node: the command is started per
                                                    scenario with HB_ADDR=127.0.0.1:<port>
                                                    (and HB_HOST, HB_PORT) of a scripted server

Options:
  --only <regex>            run only scenarios whose name matches (case-insensitive; repeatable)
  --timeout-scale <n>       multiply every tolerance and reply wait (default 1)
  --max-wait <duration>     skip scenarios that would wait longer (default 15s; e.g. 30s, 2500ms)
  --concurrency <n>         run n scenarios at a time (default 1)
  --json                    print one JSON document instead of lines
  --list                    list the scenarios of the mode and exit
  -h, --help                this text

Server mode:
  --handshake-timeout <duration>  the server's handshake timeout, not advertised (default 10s)
  --renewable-token <token> a credential the server accepts with an expiry, for the renewal
                            scenarios (default conformance-renewable; skipped without an expiry)
  --refused-token <token>   a credential the server refuses (default conformance-refused)

Node mode:
  --interval <duration>     heartbeat interval the scripted server advertises (default 200ms)
  --timeout <duration>      heartbeat timeout it advertises (default 1s)
  --connect-timeout <duration>  time for the node to start and connect (default 10s × scale)
  --allow-missing-goodbye   a node exiting on SIGTERM without Goodbye is SKIP, not FAIL
  --cwd <dir>               working directory of the command

Exit code: 0 when nothing failed, 1 when a scenario failed, 2 on a usage error.`;

class UsageError extends Error {}

function duration(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--${name} must be a duration such as 1500, 1500ms or 1.5s, got ${JSON.stringify(text)}`);
  const value = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (!(value > 0)) throw new UsageError(`--${name} must be positive`);
  return Math.round(value);
}

function hostPort(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || m[1] === "" || !(port >= 1 && port <= 65_535)) {
    throw new UsageError(`--server must be <host>:<port>, e.g. 127.0.0.1:9501, got ${JSON.stringify(text)}`);
  }
  return { host: m[1] as string, port };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: "string" },
      node: { type: "string" },
      only: { type: "string", multiple: true },
      "timeout-scale": { type: "string" },
      "max-wait": { type: "string" },
      "handshake-timeout": { type: "string" },
      "renewable-token": { type: "string" },
      "refused-token": { type: "string" },
      interval: { type: "string" },
      timeout: { type: "string" },
      "connect-timeout": { type: "string" },
      "allow-missing-goodbye": { type: "boolean" },
      cwd: { type: "string" },
      concurrency: { type: "string" },
      json: { type: "boolean" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ((values.server === undefined) === (values.node === undefined)) {
    throw new UsageError("give exactly one of --server <host:port> and --node <command>");
  }
  const mode = values.server !== undefined ? "server" : "node";
  const all: readonly { name: string; description: string }[] = mode === "server" ? serverScenarios : nodeScenarios;
  let only: RegExp[] | undefined;
  try {
    only = values.only?.map((p) => new RegExp(p, "i"));
  } catch (err) {
    throw new UsageError(`--only: ${(err as Error).message}`);
  }
  const selected = filterScenarios(all, only);
  if (values.list) {
    for (const s of selected) console.log(`${s.name}\n    ${s.description}`);
    return 0;
  }
  if (selected.length === 0) throw new UsageError(`--only ${values.only?.join(", ")} matches no ${mode} scenario (see --list)`);
  const scaleText = values["timeout-scale"];
  const timeoutScale = scaleText === undefined ? 1 : Number(scaleText);
  if (!(timeoutScale > 0)) throw new UsageError(`--timeout-scale must be a positive number, got ${JSON.stringify(scaleText)}`);
  const maxWaitMs = duration("max-wait", values["max-wait"], 15_000);
  const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`--concurrency must be a positive integer, got ${JSON.stringify(values.concurrency)}`);
  }

  const abort = new AbortController();
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    abort.abort();
    // A second Ctrl-C ends at once; NodeProcess's exit hook kills any node process.
    process.once("SIGINT", () => process.exit(130));
  });
  const onResult = values.json ? undefined : (r: ScenarioResult) => console.log(formatResult(r));
  const common = { only, timeoutScale, maxWaitMs, concurrency, onResult, signal: abort.signal };

  let results: ScenarioResult[];
  let target: string;
  const started = performance.now();
  if (mode === "server") {
    const { host, port } = hostPort(values.server as string);
    target = `${host}:${port}`;
    if (!values.json) console.log(`hb conformance: server ${target}, ${selected.length} scenarios`);
    results = await runServerConformance({
      host,
      port,
      ...common,
      handshakeTimeoutMs: duration("handshake-timeout", values["handshake-timeout"], 10_000),
      ...(values["renewable-token"] === undefined ? {} : { renewableToken: values["renewable-token"] as string }),
      ...(values["refused-token"] === undefined ? {} : { refusedToken: values["refused-token"] as string }),
    });
  } else {
    target = values.node as string;
    if (!values.json) console.log(`hb conformance: node ${JSON.stringify(target)}, ${selected.length} scenarios`);
    results = await runNodeConformance({
      command: target,
      ...common,
      heartbeatIntervalMs: duration("interval", values.interval, 200),
      heartbeatTimeoutMs: duration("timeout", values.timeout, 1000),
      connectTimeoutMs: duration("connect-timeout", values["connect-timeout"], 10_000 * timeoutScale),
      allowMissingGoodbye: values["allow-missing-goodbye"] ?? false,
      ...(values.cwd === undefined ? {} : { cwd: values.cwd }),
    });
  }
  const summary = summarizeResults(results);
  if (values.json) {
    const wallMs = Math.round(performance.now() - started);
    console.log(JSON.stringify({ mode, target, results, summary, wallMs, interrupted }, null, 2));
  } else {
    console.log(`${formatSummary(summary, performance.now() - started)}${interrupted ? " (interrupted)" : ""}`);
  }
  if (interrupted) return 130;
  return summary.failed > 0 ? 1 : 0;
}

/** Sets the exit code and lets stdout drain; forces the exit if a stray handle keeps the process alive. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 3000).unref();
}

main(process.argv.slice(2)).then(finish, (err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
  } else {
    console.error(err);
  }
  finish(2);
});

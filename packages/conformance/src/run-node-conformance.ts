import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeScenario } from "./node-scenario.js";
import { NodeProcess } from "./node-process.js";
import { INITIAL_TOKEN, NodeScenarioContext, type NodeTarget } from "./node-scenario-context.js";
import { runScenarios } from "./run-scenarios.js";
import { type ScenarioFilter, filterScenarios } from "./scenario-filter.js";
import type { ScenarioResult } from "./scenario-result.js";
import { nodeScenarios } from "./scenarios/node/index.js";
import { ScriptedServer } from "./scripted-server.js";
import { count, positive } from "./runner-option-checks.js";

/** Options of {@link runNodeConformance}. */
export interface NodeConformanceOptions {
  /**
   * Shell command that starts the node under test. It is started once per
   * scenario with `HB_ADDR=127.0.0.1:<port>`, `HB_HOST` and `HB_PORT` in its
   * environment and must connect there, and keep running (heartbeating,
   * reconnecting) until signalled. `HB_TOKEN_FILE` names a file holding
   * the credential to present (read afresh for every Hello and renewal;
   * the renewal scenarios rewrite it).
   */
  command: string;
  /** Working directory of the command (default: this process's). */
  cwd?: string;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
  /** Run only scenarios whose name matches (see {@link ScenarioFilter}). Default: all. */
  only?: ScenarioFilter;
  /** Multiplies every tolerance and every wait for a prompt frame (default 1). */
  timeoutScale?: number;
  /** Longest a scenario waits for something slow, such as a reconnect after backoff, in ms (default 15 000). */
  maxWaitMs?: number;
  /** Time allowed for the node to start and make its first connection, in ms (default 10 000 × timeoutScale). */
  connectTimeoutMs?: number;
  /** Heartbeat interval the fake server advertises in Welcome, ms (default 200). */
  heartbeatIntervalMs?: number;
  /** Heartbeat timeout the fake server advertises, ms (default 1000; at least 2 × the interval). */
  heartbeatTimeoutMs?: number;
  /**
   * Report a node that exits on SIGTERM without sending Goodbye as a skip
   * instead of a failure (default false).
   */
  allowMissingGoodbye?: boolean;
  /** Called with each result as soon as its scenario finishes. */
  onResult?: (result: ScenarioResult) => void;
  /** Stops before the next scenario when aborted. */
  signal?: AbortSignal;
  /**
   * How many scenarios run at the same time (default 1). Scenarios are
   * independent (unique node ids; in node mode each has its own node process
   * and port), so a higher value only shortens the run; timing checks get
   * noisier on a loaded machine.
   */
  concurrency?: number;
  /** The scenarios to choose from (default {@link nodeScenarios}). */
  scenarios?: readonly NodeScenario[];
}

interface NodeRun {
  readonly ctx: NodeScenarioContext;
  readonly server: ScriptedServer;
  readonly node: NodeProcess;
  readonly dir: string;
}

/**
 * Runs the node scenarios: for each, a fresh scripted fake server on
 * 127.0.0.1 (random port) and a fresh node process (killed afterwards, with
 * its whole process group), and returns one result per scenario.
 *
 * @throws RangeError for invalid options; SyntaxError for an invalid `only` pattern
 */
export async function runNodeConformance(options: NodeConformanceOptions): Promise<ScenarioResult[]> {
  if (typeof options.command !== "string" || options.command.trim() === "") throw new RangeError("command must be a non-empty string");
  const timeoutScale = positive("timeoutScale", options.timeoutScale ?? 1);
  const intervalMs = positive("heartbeatIntervalMs", options.heartbeatIntervalMs ?? 200);
  const timeoutMs = positive("heartbeatTimeoutMs", options.heartbeatTimeoutMs ?? 1000);
  if (timeoutMs < 2 * intervalMs) {
    throw new RangeError(`heartbeatTimeoutMs (${timeoutMs}) must be at least 2 × heartbeatIntervalMs (${intervalMs})`);
  }
  const target: NodeTarget = {
    intervalMs,
    timeoutMs,
    timeoutScale,
    maxWaitMs: positive("maxWaitMs", options.maxWaitMs ?? 15_000),
    connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs ?? 10_000 * timeoutScale),
    allowMissingGoodbye: options.allowMissingGoodbye ?? false,
  };
  const scenarios = filterScenarios(options.scenarios ?? nodeScenarios, options.only);
  return runScenarios<NodeScenario, NodeRun>(scenarios, {
    async setUp() {
      const server = await ScriptedServer.listen("127.0.0.1");
      const port = String(server.port);
      const dir = mkdtempSync(join(tmpdir(), "hb-conformance-"));
      const tokenFile = join(dir, "token");
      writeFileSync(tokenFile, `${INITIAL_TOKEN}\n`);
      const node = NodeProcess.start(
        options.command,
        { ...options.env, HB_ADDR: `127.0.0.1:${port}`, HB_HOST: "127.0.0.1", HB_PORT: port, HB_TOKEN_FILE: tokenFile },
        options.cwd,
      );
      return { ctx: new NodeScenarioContext(target, server, node, tokenFile), server, node, dir };
    },
    run: (scenario, { ctx }) => scenario.run(ctx),
    async tearDown({ server, node, dir }) {
      await node.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
    onResult: options.onResult,
    signal: options.signal,
    concurrency: count("concurrency", options.concurrency ?? 1),
  });
}

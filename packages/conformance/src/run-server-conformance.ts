import { runScenarios } from "./run-scenarios.js";
import { type ScenarioFilter, filterScenarios } from "./scenario-filter.js";
import type { ScenarioResult } from "./scenario-result.js";
import type { ServerScenario } from "./server-scenario.js";
import { ServerScenarioContext, newRunId } from "./server-scenario-context.js";
import { serverScenarios } from "./scenarios/server/index.js";
import { count, positive } from "./runner-option-checks.js";

/** Options of {@link runServerConformance}. */
export interface ServerConformanceOptions {
  /** Host of the server under test. */
  host: string;
  /** Port of the server under test, 1..65535. */
  port: number;
  /** Run only scenarios whose name matches (see {@link ScenarioFilter}). Default: all. */
  only?: ScenarioFilter;
  /**
   * Multiplies every tolerance and every wait for a prompt reply (default 1).
   * Advertised timings (heartbeat interval and timeout) are used as they are.
   */
  timeoutScale?: number;
  /**
   * Longest a scenario may wait for a timeout to happen, in ms (default
   * 15 000). Scenarios that would wait longer (the advertised heartbeat
   * timeout + slack, the handshake timeout + slack) are skipped with the reason.
   */
  maxWaitMs?: number;
  /**
   * The server's handshake timeout in ms (default 10 000, the reference
   * server's default). It is not advertised, so the runner must be told.
   */
  handshakeTimeoutMs?: number;
  /**
   * A credential the server accepts with an expiry (`Welcome.token_expires_in_ms`
   * > 0) and accepts again in a Renew: the renewal scenarios present it
   * (default `"conformance-renewable"`). They are skipped when the server
   * welcomes it without an expiry.
   */
  renewableToken?: string;
  /** A credential the server refuses, in a Hello and in a Renew (default `"conformance-refused"`). */
  refusedToken?: string;
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
  /**
   * Makes the server under test drain (close gracefully); resolves once it
   * has begun. Only `go-away-spread` uses it (skipped without it); it closes
   * the server, so run that scenario alone.
   */
  drain?: () => Promise<void>;
  /** The scenarios to choose from (default {@link serverScenarios}; see also `serverSetupScenarios`). */
  scenarios?: readonly ServerScenario[];
}

/**
 * Runs the server scenarios one after another against a server under test,
 * over raw TCP (frames via `@hb/codec` only), and returns one result per
 * scenario. The server's timing is learned from each Welcome. Node ids are
 * prefixed `conf-<run id>-` so runs do not collide.
 *
 * Never throws for a misbehaving server: a scenario that cannot connect
 * fails with the socket error.
 *
 * @throws RangeError for invalid options; SyntaxError for an invalid `only` pattern
 */
export async function runServerConformance(options: ServerConformanceOptions): Promise<ScenarioResult[]> {
  const port = options.port;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`port must be an integer in 1..65535, got ${port}`);
  const timeoutScale = positive("timeoutScale", options.timeoutScale ?? 1);
  const maxWaitMs = positive("maxWaitMs", options.maxWaitMs ?? 15_000);
  const handshakeTimeoutMs = positive("handshakeTimeoutMs", options.handshakeTimeoutMs ?? 10_000);
  const scenarios = filterScenarios(options.scenarios ?? serverScenarios, options.only);
  const target = {
    host: options.host,
    port,
    timeoutScale,
    maxWaitMs,
    handshakeTimeoutMs,
    renewableToken: options.renewableToken ?? "conformance-renewable",
    refusedToken: options.refusedToken ?? "conformance-refused",
    drain: options.drain,
  };
  const runId = newRunId();
  return runScenarios<ServerScenario, ServerScenarioContext>(scenarios, {
    setUp: async () => new ServerScenarioContext(target, runId),
    run: (scenario, ctx) => scenario.run(ctx),
    tearDown: async (ctx) => ctx.close(),
    onResult: options.onResult,
    signal: options.signal,
    concurrency: count("concurrency", options.concurrency ?? 1),
  });
}

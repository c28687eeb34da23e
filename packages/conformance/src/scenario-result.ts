/** Outcome of one scenario. */
export type ScenarioStatus = "pass" | "fail" | "skip";

/** The result of running one scenario. */
export interface ScenarioResult {
  /** Scenario name, e.g. `"heartbeat-ack"`. */
  readonly name: string;
  /** pass, fail or skip. */
  readonly status: ScenarioStatus;
  /**
   * For `fail`: what was expected and what was seen. For `skip`: why it did
   * not run. For `pass`: an optional note (e.g. a measured delay).
   */
  readonly message?: string;
  /** Wall time the scenario took, in ms. */
  readonly durationMs: number;
}

/** Counts of {@link ScenarioResult}s by status. */
export interface ResultSummary {
  /** Scenarios that passed. */
  readonly passed: number;
  /** Scenarios that failed. */
  readonly failed: number;
  /** Scenarios that were skipped. */
  readonly skipped: number;
  /** Sum of the scenarios' durations, in ms. */
  readonly durationMs: number;
}

/** Counts results by status. */
export function summarizeResults(results: readonly ScenarioResult[]): ResultSummary {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let durationMs = 0;
  for (const r of results) {
    if (r.status === "pass") passed++;
    else if (r.status === "fail") failed++;
    else skipped++;
    durationMs += r.durationMs;
  }
  return { passed, failed, skipped, durationMs };
}

/**
 * The text form of one result: `PASS <name>`, `FAIL <name>: <reason>` or
 * `SKIP <name>: <why>`. Notes of passing scenarios are left out.
 */
export function formatResult(result: ScenarioResult): string {
  const tag = result.status.toUpperCase();
  if (result.status === "pass" || result.message === undefined) return `${tag} ${result.name}`;
  return `${tag} ${result.name}: ${result.message}`;
}

/**
 * The summary line, e.g. `26 passed, 1 failed, 1 skipped (12.3 s)`.
 *
 * @param wallMs - elapsed time to show (default: the sum of the scenarios'
 *   durations, which overstates a concurrent run)
 */
export function formatSummary(summary: ResultSummary, wallMs = summary.durationMs): string {
  return `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped (${(wallMs / 1000).toFixed(1)} s)`;
}

import { ScenarioFailure, ScenarioSkip } from "./scenario-outcome.js";
import type { ScenarioResult } from "./scenario-result.js";

/** How {@link runScenarios} prepares, runs and cleans up one scenario. */
export interface ScenarioLoop<S extends { readonly name: string }, C> {
  /** Makes the scenario's context. */
  setUp(scenario: S): Promise<C>;
  /** Runs the scenario; a returned string is a note on the pass. */
  run(scenario: S, ctx: C): Promise<string | undefined | void>;
  /** Releases the context (also after a failure). */
  tearDown(ctx: C): Promise<void>;
  /** Called with each result as soon as it is known. */
  onResult: ((result: ScenarioResult) => void) | undefined;
  /** Stops before the next scenario when aborted. */
  signal: AbortSignal | undefined;
  /** How many scenarios run at the same time (≥ 1). */
  concurrency: number;
}

/**
 * Runs scenarios (`loop.concurrency` at a time), each with a fresh context from
 * `loop.setUp` and a `loop.tearDown` afterwards (also after a failure), and turns
 * their outcome into results: a returned note → pass, {@link ScenarioFailure}
 * → fail, {@link ScenarioSkip} → skip, anything else → fail with the error
 * marked as unexpected (it may be a runner bug as much as a peer's).
 * Results are returned, and passed to `onResult`, in scenario order.
 *
 * @internal
 */
export async function runScenarios<S extends { readonly name: string }, C>(
  scenarios: readonly S[],
  loop: ScenarioLoop<S, C>,
): Promise<ScenarioResult[]> {
  const { setUp, run, tearDown, onResult, signal } = loop;
  const results: (ScenarioResult | undefined)[] = new Array(scenarios.length);
  let next = 0;
  let reported = 0;

  const runOne = async (scenario: S): Promise<ScenarioResult> => {
    const start = performance.now();
    let result: Omit<ScenarioResult, "durationMs">;
    let ctx: C | undefined;
    try {
      ctx = await setUp(scenario);
      const note = await run(scenario, ctx);
      result = typeof note === "string" ? { name: scenario.name, status: "pass", message: note } : { name: scenario.name, status: "pass" };
    } catch (err) {
      result = toResult(scenario.name, err);
    } finally {
      if (ctx !== undefined) await tearDown(ctx).catch(() => {});
    }
    return { ...result, durationMs: Math.round(performance.now() - start) };
  };

  const worker = async (): Promise<void> => {
    while (next < scenarios.length && signal?.aborted !== true) {
      const i = next++;
      results[i] = await runOne(scenarios[i] as S);
      // Report in scenario order, whatever order they finish in.
      for (let r = results[reported]; r !== undefined; r = results[reported]) {
        reported++;
        onResult?.(r);
      }
    }
  };
  const workers = Math.max(1, Math.min(loop.concurrency, scenarios.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results.filter((r): r is ScenarioResult => r !== undefined);
}

function toResult(name: string, err: unknown): Omit<ScenarioResult, "durationMs"> {
  if (err instanceof ScenarioFailure) return { name, status: "fail", message: err.message };
  if (err instanceof ScenarioSkip) return { name, status: "skip", message: err.message };
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { name, status: "fail", message: `unexpected error in the scenario: ${detail.split("\n").slice(0, 3).join(" | ")}` };
}

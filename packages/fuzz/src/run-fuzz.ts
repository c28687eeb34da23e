import { Mutator } from "./mutator.js";
import type { Finding, FuzzReport } from "./fuzz-report.js";
import type { Seed } from "./seed-corpus.js";
import type { FuzzTarget } from "./targets/fuzz-target.js";

/** How long one input may take in an in-process target before it counts as a hang, ms. */
export const HANG_MS = 2_000;

/** Limits of one run: it stops at whichever comes first. */
export interface FuzzBudget {
  /** Mutated inputs to feed. */
  inputs?: number;
  /** Seconds to run. */
  seconds?: number;
}

/** Called with every input before it is fed (e.g. to let a watchdog in another thread see it). */
export type BeforeInput = (input: Uint8Array, index: number) => void;

/**
 * Feeds `target` mutated vectors from `seeds` (deterministic by `seed`)
 * until the budget is spent, catching every exception (a crash), every
 * input slower than {@link HANG_MS} (a hang) and any uncaught exception
 * or unhandled rejection meanwhile (a crash of the server under test,
 * which runs in this process). Stops at the first finding. An input that
 * never returns (an endless loop) cannot be caught here: the CLI runs each
 * target in a worker thread with a watchdog (fuzz-worker.ts).
 */
export async function runFuzz(
  target: FuzzTarget,
  seeds: readonly Seed[],
  seed: number,
  budget: FuzzBudget,
  beforeInput?: BeforeInput,
): Promise<FuzzReport> {
  if (budget.inputs === undefined && budget.seconds === undefined) throw new TypeError("a budget needs inputs or seconds");
  const mutator = new Mutator(seeds, seed);
  const report: FuzzReport = { target: target.name, seed, inputs: 0, frames: 0, bytes: 0, seconds: 0, codes: {}, findings: [] };
  const maxInputs = budget.inputs ?? Number.POSITIVE_INFINITY;
  const deadline = budget.seconds === undefined ? Number.POSITIVE_INFINITY : performance.now() + budget.seconds * 1_000;
  let current: Uint8Array = new Uint8Array(0);
  const found = (kind: Finding["kind"], detail: string, input: Uint8Array = current) =>
    report.findings.push({ kind, target: target.name, index: report.inputs, input, detail });
  const uncaught = (err: unknown) => found("crash", `uncaught: ${(err as Error)?.stack ?? String(err)}`);
  process.on("uncaughtException", uncaught);
  process.on("unhandledRejection", uncaught);
  const t0 = performance.now();
  try {
    while (report.inputs < maxInputs && report.findings.length === 0) {
      // Check the clock every 256 inputs: performance.now() is not free at millions per second.
      if ((report.inputs & 255) === 0 && performance.now() > deadline) break;
      current = mutator.next();
      beforeInput?.(current, report.inputs);
      const started = performance.now();
      try {
        report.frames += await target.run(current, mutator, report.codes);
      } catch (err) {
        found("crash", (err as Error)?.stack ?? String(err), (err as { input?: Uint8Array }).input ?? current);
      }
      const took = performance.now() - started;
      if (took > HANG_MS) found("hang", `one input took ${took.toFixed(0)} ms (limit ${HANG_MS})`);
      report.inputs++;
      report.bytes += current.length;
    }
    try {
      await target.close();
    } catch (err) {
      found("crash", (err as Error)?.stack ?? String(err), (err as { input?: Uint8Array }).input ?? current);
    }
  } finally {
    process.off("uncaughtException", uncaught);
    process.off("unhandledRejection", uncaught);
  }
  report.seconds = (performance.now() - t0) / 1_000;
  return report;
}

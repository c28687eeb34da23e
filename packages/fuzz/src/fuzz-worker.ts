// One target of `pnpm fuzz` in a worker thread, so that the main thread can
// catch an input that never returns: before each input the worker copies it
// into shared memory and stamps the time; the main thread (cli.ts) reads
// them when the stamp stops moving. See runInWorker.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { FuzzReport } from "./fuzz-report.js";
import { type FuzzBudget, runFuzz } from "./run-fuzz.js";
import { loadSeeds } from "./seed-corpus.js";
import { decoderTarget } from "./targets/decoder-target.js";
import type { FuzzTarget } from "./targets/fuzz-target.js";
import { sessionTarget } from "./targets/session-target.js";
import { tcpTarget } from "./targets/tcp-target.js";

/** Largest input the watchdog can hand back whole (longer ones are cut and say so). */
const SHARED_INPUT_BYTES = 4 * 1024 * 1024;
// Header: [0] input length, [1] input index, [2..3] the time it started (Float64 view).
const HEADER_BYTES = 16;

interface Job {
  target: string;
  seed: number;
  budget: FuzzBudget;
  shared: SharedArrayBuffer;
}

/** What the watchdog found: the input that stopped making progress. */
export interface Stuck {
  index: number;
  input: Uint8Array;
  truncated: boolean;
  ms: number;
}

/**
 * Runs `target` in a worker thread; resolves with its report, or with the
 * input it was stuck on for `hangMs` (the worker is then terminated).
 */
export function runInWorker(target: string, seed: number, budget: FuzzBudget, hangMs: number): Promise<FuzzReport | Stuck> {
  const shared = new SharedArrayBuffer(HEADER_BYTES + SHARED_INPUT_BYTES);
  const header = new Int32Array(shared, 0, 2);
  const started = new Float64Array(shared, 8, 1);
  const worker = new Worker(new URL(import.meta.url), { workerData: { target, seed, budget, shared } satisfies Job });
  return new Promise((resolve, reject) => {
    const watchdog = setInterval(() => {
      const since = started[0] === 0 ? 0 : performance.timeOrigin + performance.now() - (started[0] as number);
      if (since < hangMs) return;
      clearInterval(watchdog);
      const len = Atomics.load(header, 0);
      const input = new Uint8Array(shared, HEADER_BYTES, Math.min(len, SHARED_INPUT_BYTES)).slice();
      void worker.terminate();
      resolve({ index: Atomics.load(header, 1), input, truncated: len > SHARED_INPUT_BYTES, ms: since });
    }, 250);
    worker.once("message", (report: FuzzReport) => {
      clearInterval(watchdog);
      resolve(report);
    });
    worker.once("error", (err) => {
      clearInterval(watchdog);
      reject(err);
    });
  });
}

if (!isMainThread && parentPort !== null) {
  const job = workerData as Job;
  const header = new Int32Array(job.shared, 0, 2);
  const started = new Float64Array(job.shared, 8, 1);
  const bytes = new Uint8Array(job.shared, HEADER_BYTES);
  const seeds = loadSeeds();
  let target: FuzzTarget;
  if (job.target === "decoder") target = decoderTarget();
  else if (job.target === "session") target = sessionTarget(seeds);
  else if (job.target === "tcp") target = await tcpTarget(seeds);
  else throw new Error(`unknown target ${job.target} (decoder, session, tcp)`);
  const report = await runFuzz(target, seeds, job.seed, job.budget, (input, index) => {
    bytes.set(input.length <= SHARED_INPUT_BYTES ? input : input.subarray(0, SHARED_INPUT_BYTES));
    Atomics.store(header, 0, input.length);
    Atomics.store(header, 1, index);
    started[0] = performance.timeOrigin + performance.now();
  });
  parentPort.postMessage(report);
}

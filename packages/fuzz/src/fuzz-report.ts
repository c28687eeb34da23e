/** A crash or a hang, with the input that caused it. */
export interface Finding {
  /** `crash`: an exception escaped (the decoder or session must never throw); `hang`: an input took longer than the limit. */
  kind: "crash" | "hang";
  /** The target it happened in. */
  target: string;
  /** The input's index in the run (with the seed, it reproduces the input). */
  index: number;
  /** The input bytes. */
  input: Uint8Array;
  /** The error, or how long it took. */
  detail: string;
}

/** What one fuzz run of one target did. */
export interface FuzzReport {
  target: string;
  seed: number;
  /** Mutated inputs fed. */
  inputs: number;
  /** Whole frames the receiver decoded from them. */
  frames: number;
  /** Bytes fed. */
  bytes: number;
  seconds: number;
  /** Error codes reached (decoder errors or ProtocolErrors the server sent), with how often. */
  codes: Record<string, number>;
  findings: Finding[];
}

/** Counts one error code in `codes`. */
export function countCode(codes: Record<string, number>, name: string): void {
  codes[name] = (codes[name] ?? 0) + 1;
}

/** One line per report: inputs/s, frames/s, distinct codes, findings. */
export function formatReport(r: FuzzReport): string {
  const rate = (n: number) => Math.round(n / Math.max(r.seconds, 1e-9)).toLocaleString("en-US");
  const codes = Object.entries(r.codes)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");
  return (
    `${r.target}: ${r.inputs.toLocaleString("en-US")} inputs (${rate(r.inputs)}/s), ${r.frames.toLocaleString("en-US")} frames decoded ` +
    `(${rate(r.frames)}/s), ${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s, seed ${r.seed}; ` +
    `${Object.keys(r.codes).length} distinct codes: ${codes}; ${r.findings.length} crashes/hangs`
  );
}

import type { Mutator } from "../mutator.js";

/** Something the fuzzer feeds inputs to. */
export interface FuzzTarget {
  /** Its name in reports. */
  readonly name: string;
  /**
   * Feeds one input (using `mutator` for chunking and choices), counting the
   * error codes it reached in `codes`; resolves with the number of frames
   * decoded. A throw is a crash.
   */
  run(input: Uint8Array, mutator: Mutator, codes: Record<string, number>): Promise<number>;
  /** Releases what the target holds; a throw here is a crash too (e.g. the server died). */
  close(): Promise<void>;
}

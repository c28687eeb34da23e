import { ErrorCode, FrameDecoder } from "@hb/codec";
import type { Mutator } from "../mutator.js";
import type { FuzzTarget } from "./fuzz-target.js";

/**
 * `FrameDecoder` alone: each input fed in random chunks to a fresh decoder
 * (max frame size 1 MiB), then end of stream. It must never throw; every
 * failure is an `HbError` with a decode code.
 */
export function decoderTarget(): FuzzTarget {
  return {
    name: "decoder",
    async run(input: Uint8Array, mutator: Mutator, codes: Record<string, number>): Promise<number> {
      const d = new FrameDecoder();
      let at = 0;
      let err = undefined as ReturnType<FrameDecoder["push"]>;
      for (const cut of [...mutator.cuts(input), input.length]) {
        err = d.push(input.subarray(at, cut), () => {});
        at = cut;
        if (err !== undefined) break;
      }
      err ??= d.end();
      if (err !== undefined) {
        const name = ErrorCode[err.code] ?? String(err.code);
        codes[name] = (codes[name] ?? 0) + 1;
      }
      return d.frames;
    },
    async close() {},
  };
}

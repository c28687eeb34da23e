import { ErrorCode, FrameDecoder } from "@hb/codec";
import { HeartbeatServer, SILENT_LOGGER } from "@hb/server/internal";
import { type Socket, connect } from "node:net";
import type { Mutator } from "../mutator.js";
import type { Seed } from "../seed-corpus.js";
import type { FuzzTarget } from "./fuzz-target.js";

/** How long a connection may stay open after the fuzzer half-closed it, ms: longer is a hang. */
export const TCP_HANG_MS = 10_000;
// Connections in flight at once.
const CONCURRENCY = 32;

/**
 * A real `HeartbeatServer` (one process, loopback, port 0) fed over TCP:
 * one connection per input (three in four start with a valid Hello), the
 * input written in random chunks, then a half-close. The server must answer
 * with coded errors and close every connection; one still open
 * {@link TCP_HANG_MS} after the half-close is a hang.
 */
export async function tcpTarget(seeds: readonly Seed[]): Promise<FuzzTarget> {
  const hellos = seeds.filter((s) => s.kind === "valid" && s.name.startsWith("hello")).map((s) => s.bytes);
  const server = new HeartbeatServer({
    workerCount: 1,
    host: "127.0.0.1",
    logger: SILENT_LOGGER,
    handshakeTimeout: 2_000,
    maxMessageSize: 256 * 1024,
    rateLimit: { framesPerSecond: 1_000_000, burst: 1_000_000 },
  });
  const { port } = await server.listen();
  const inFlight = new Set<Promise<void>>();
  let framesIn = 0;
  let failure: Error | undefined;
  const one = (input: Uint8Array, prefix: Uint8Array | undefined, cuts: number[], codes: Record<string, number>) =>
    new Promise<void>((resolve, reject) => {
      const s: Socket = connect({ port, host: "127.0.0.1" });
      const d = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
      let timer: NodeJS.Timeout | undefined;
      s.on("error", () => {});
      s.on("data", (chunk: Buffer) => {
        d.push(chunk, (f) => {
          if (f.body.case !== "error") return;
          const name = ErrorCode[f.body.value.code] ?? String(f.body.value.code);
          codes[name] = (codes[name] ?? 0) + 1;
        });
      });
      s.once("connect", () => {
        if (prefix !== undefined) s.write(prefix);
        let at = 0;
        for (const cut of [...cuts, input.length]) {
          s.write(input.subarray(at, cut));
          at = cut;
        }
        s.end();
        timer = setTimeout(() => {
          s.destroy();
          reject(new Error(`connection still open ${TCP_HANG_MS} ms after the half-close`));
        }, TCP_HANG_MS);
      });
      s.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  return {
    name: "tcp",
    async run(input, mutator, codes) {
      if (failure !== undefined) throw failure;
      const prefix = mutator.int(0, 3) !== 0 ? hellos[mutator.int(0, hellos.length - 1)] : undefined;
      const p = one(input, prefix, mutator.cuts(input), codes).catch((err: Error) => {
        failure = Object.assign(err, { input });
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
      // Frames the server decoded so far (its own counter; the last inputs' land after the run).
      const now = server.stats().framesIn;
      const frames = now - framesIn;
      framesIn = now;
      return frames;
    },
    async close() {
      await Promise.all(inFlight);
      await server.close();
      if (failure !== undefined) throw failure;
    },
  };
}

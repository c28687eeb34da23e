import { ErrorCode, FrameDecoder } from "@hb/codec";
import { EventEmitter } from "node:events";
import {
  type HeartbeatServerEvents,
  SILENT_LOGGER,
  ServerCore,
  ServerCounters,
  Session,
  type SessionTransport,
  resolveServerOptions,
} from "@hb/server/internal";
import type { Mutator } from "../mutator.js";
import type { Seed } from "../seed-corpus.js";
import type { FuzzTarget } from "./fuzz-target.js";

// Sessions fed before the writers get an event-loop turn to write (and the batch is closed).
const BATCH = 64;

/** A transport that decodes what the server writes and counts the ProtocolErrors. */
class CountingTransport implements SessionTransport {
  readonly remoteAddress: string;
  readonly writableLength = 0;
  session: Session | undefined;
  #decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
  #codes: Record<string, number>;
  #gone = false;

  constructor(remoteAddress: string, codes: Record<string, number>) {
    this.remoteAddress = remoteAddress;
    this.#codes = codes;
  }
  write(bytes: Uint8Array): void {
    const err = this.#decoder.push(bytes, (f) => {
      if (f.body.case !== "error") return;
      const name = ErrorCode[f.body.value.code] ?? String(f.body.value.code);
      this.#codes[name] = (this.#codes[name] ?? 0) + 1;
    });
    // The server must only ever write well-formed frames.
    if (err !== undefined) throw new Error(`server wrote a bad frame: ${err.message}`);
  }
  end(): void {
    this.close();
  }
  destroy(): void {
    this.close();
  }
  close(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.session?.transportClosed();
  }
}

/**
 * A full server session without sockets (the session/transport seam, as
 * packages/server/test/fake-core.ts drives it): one `ServerCore` for the
 * whole run, a fresh `Session` per input on an in-memory transport. Three
 * inputs in four start with a valid Hello from the vectors, so that the
 * mutated frames reach the handlers after Welcome. Sessions stay open for
 * a batch of inputs (the writers write once per event-loop turn, so
 * non-fatal errors and deliveries reach the transport), then close.
 */
export function sessionTarget(seeds: readonly Seed[]): FuzzTarget {
  const hellos = seeds.filter((s) => s.kind === "valid" && s.name.startsWith("hello")).map((s) => s.bytes);
  if (hellos.length === 0) throw new Error("no Hello vector among the seeds");
  const options = resolveServerOptions({ workerCount: 1, logger: SILENT_LOGGER, maxMessageSize: 256 * 1024, resumeGrace: 1_000 });
  const stats = new ServerCounters();
  const core = new ServerCore(options, new EventEmitter<HeartbeatServerEvents>(), stats);
  let framesIn = 0;
  let open: CountingTransport[] = [];
  let id = 0;
  const closeBatch = async () => {
    await new Promise((r) => setImmediate(r));
    for (const t of open) t.close();
    open = [];
  };
  return {
    name: "session",
    async run(input, mutator, codes) {
      const t = new CountingTransport(`10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`, codes);
      const s = new Session(core.sessions, t, ++id, () => {});
      t.session = s;
      open.push(t);
      if (mutator.int(0, 3) !== 0) s.receive(hellos[mutator.int(0, hellos.length - 1)] as Uint8Array);
      let at = 0;
      for (const cut of [...mutator.cuts(input), input.length]) {
        s.receive(input.subarray(at, cut));
        at = cut;
      }
      if (open.length >= BATCH) await closeBatch();
      // Frames the sessions decoded (the server's own counter).
      const frames = stats.framesIn - framesIn;
      framesIn = stats.framesIn;
      return frames;
    },
    async close() {
      await closeBatch();
      core.shutdown();
    },
  };
}

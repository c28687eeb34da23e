import { EventEmitter } from "node:events";
import { type Frame, type FrameBodyInit, encodeFrame, makeFrame } from "@hb/codec";
import {
  type Clock,
  type HeartbeatServerEvents,
  type HeartbeatServerOptions,
  type NodeEvent,
  ServerCore,
  ServerCounters,
  Session,
  processSlicer,
  resolveServerOptions,
} from "../src/internal.js";
import { MemoryTransport } from "./memory-transport.js";

/** A clock the test moves by hand: monotonic ms from 0, epoch = 1.7e12 + monotonic. */
export class FakeClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  epoch(monotonic: number): number {
    return 1_700_000_000_000 + Math.round(monotonic);
  }
}

/** A client of a {@link FakeCore}: a session on an in-memory transport. */
export interface FakePeer {
  session: Session;
  transport: MemoryTransport;
  /** Feeds frames as the client would send them. */
  send(...frames: Frame[]): void;
  /** Frames the server wrote so far (after the writer's turn: await `settle()` first). */
  readonly frames: Frame[];
}

/**
 * The server core with no socket and no timer: sessions on in-memory
 * transports, time moved by hand ({@link FakeCore.advance} runs the
 * liveness checks), every node event recorded.
 */
export class FakeCore {
  readonly clock = new FakeClock();
  readonly events = new EventEmitter<HeartbeatServerEvents>();
  readonly stats = new ServerCounters();
  readonly core: ServerCore;
  readonly log: { name: string; nodeId: string; reason: string; time: number }[] = [];
  /** The event-loop lag the core sees, ms (its `server_lagging` hold): set it to play a lagging server. */
  lagMs = 0;
  #nextIp = 1;

  constructor(options: HeartbeatServerOptions = {}) {
    this.core = new ServerCore(resolveServerOptions({ workerCount: 1, ...options }), this.events, this.stats, this.clock, () => this.lagMs);
    for (const name of ["nodeJoined", "nodeLeft", "nodeSuspect", "nodeTimeout", "nodeRecovered"] as const) {
      this.events.on(name, (e: NodeEvent) => this.log.push({ name, nodeId: e.nodeId, reason: e.reason, time: e.time }));
    }
  }

  /** Opens a connection (not yet welcomed). */
  connect(): FakePeer {
    const transport = new MemoryTransport(`10.0.0.${this.#nextIp++}`);
    const session = new Session(this.core.sessions, transport, this.#nextIp, () => {});
    transport.session = session;
    return {
      session,
      transport,
      send: (...frames) => {
        for (const f of frames) session.receive(encodeFrame(f));
      },
      get frames() {
        return transport.frames;
      },
    };
  }

  /** Connects and says Hello as `nodeId`; the Welcome is out once `settle()` resolves. */
  hello(nodeId: string, hello: FrameBodyInit<"hello"> = {}): FakePeer {
    const peer = this.connect();
    peer.send(makeFrame("hello", { protocolVersion: 1, nodeId, ...hello }));
    return peer;
  }

  /**
   * Moves the clock to `t` ms and fires the liveness timer as the real one
   * would (a late tick is a stall: its verdicts wait for `settle()`).
   */
  timer(t: number): void {
    this.clock.t = t;
    this.core.liveness.timerTick(t);
  }

  /** Moves the clock to `t` ms and runs the liveness checks. */
  advance(t: number): void {
    this.clock.t = t;
    this.core.tick(t);
  }

  /** Names and reasons of the events of `nodeId`, in order. */
  eventsOf(nodeId: string): string[] {
    return this.log.filter((e) => e.nodeId === nodeId).map((e) => `${e.name} ${e.reason}`);
  }
}

/** Lets the session writers write (they flush once per event-loop turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits until the turn slicer has no work left (input held beyond a turn's
 * budget is read in later turns): at most 1 000 turns.
 */
export async function drained(): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    await settle();
    if (!processSlicer().backlogged) return;
  }
  throw new Error("the turn slicer still has work after 1 000 turns");
}

/** Spends the current turn's work budget, so that input arriving now is held for a later turn. */
export function spendTurn(): void {
  const slicer = processSlicer();
  slicer.expired();
  const until = performance.now() + 20;
  while (performance.now() < until) {}
  while (!slicer.spend(1_000)) {}
}

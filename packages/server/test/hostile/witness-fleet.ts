import { RawPeer } from "../raw-peer.js";

/** One heartbeat round trip of a witness: when the Heartbeat left, and how long its ack took (ms). */
interface Sample {
  at: number;
  rtt: number;
}

/**
 * Well-behaved nodes heartbeating every `intervalMs` over their own
 * connections while a hostile test runs beside them: they measure each
 * Heartbeat → HeartbeatAck round trip, so that a test can compare the p99
 * of a window with that of a quiet one, and tell whether any witness was
 * disturbed (an error, a close).
 */
export class WitnessFleet {
  readonly peers: RawPeer[];
  readonly #samples: Sample[] = [];
  readonly #sentAt: Map<bigint, number>[];
  readonly #timer: NodeJS.Timeout;

  private constructor(peers: RawPeer[], intervalMs: number) {
    this.peers = peers;
    this.#sentAt = peers.map(() => new Map());
    peers.forEach((p, i) => {
      const sent = this.#sentAt[i] as Map<bigint, number>;
      p.onFrame = (f) => {
        if (f.body.case !== "heartbeatAck") return;
        const at = sent.get(f.body.value.seq);
        if (at === undefined) return;
        sent.delete(f.body.value.seq);
        this.#samples.push({ at, rtt: performance.now() - at });
      };
    });
    this.#timer = setInterval(() => this.#beat(), intervalMs);
  }

  /** Connects `n` witnesses to `port` (ids `witness-<i>`) and starts their heartbeats. */
  static async start(port: number, n: number, intervalMs = 100): Promise<WitnessFleet> {
    const peers = await Promise.all(Array.from({ length: n }, () => RawPeer.connect(port, { keep: false })));
    await Promise.all(peers.map((p, i) => p.hello({ nodeId: `witness-${i}` })));
    return new WitnessFleet(peers, intervalMs);
  }

  /** Round trips of the heartbeats sent in [from, to) (performance.now() ms). */
  rtts(from: number, to = Number.POSITIVE_INFINITY): number[] {
    return this.#samples.filter((s) => s.at >= from && s.at < to).map((s) => s.rtt);
  }

  /** The 99th percentile of the round trips of heartbeats sent in [from, to), and how many there were. */
  p99(from: number, to = Number.POSITIVE_INFINITY): { p99: number; n: number } {
    const r = this.rtts(from, to).sort((a, b) => a - b);
    return { p99: r.length === 0 ? Number.NaN : (r[Math.min(r.length - 1, Math.ceil(r.length * 0.99) - 1)] as number), n: r.length };
  }

  /** Heartbeats not acknowledged yet that were sent before `before` (a lost ack is a disturbance). */
  unanswered(before: number): number {
    let n = 0;
    for (const m of this.#sentAt) for (const at of m.values()) if (at < before) n++;
    return n;
  }

  /** Witnesses that received a ProtocolError or were closed. */
  disturbed(): number {
    return this.peers.filter((p) => p.isClosed || p.count("error") > 0).length;
  }

  /** Stops the heartbeats and closes the witnesses. */
  stop(): void {
    clearInterval(this.#timer);
    for (const p of this.peers) p.destroy();
  }

  #beat(): void {
    const now = performance.now();
    this.peers.forEach((p, i) => {
      if (p.isClosed) return;
      p.heartbeat();
      (this.#sentAt[i] as Map<bigint, number>).set(p.seq, now);
    });
  }
}

// The client's heartbeat unit with a fake clock: beats on the interval,
// declares the server dead after the timeout of silence, never earlier, and
// reports each measured round trip once when the server asked for it.
import { describe, expect, it } from "vitest";
import { type HeartbeatTimers, Heartbeats } from "../src/heartbeats.js";

class FakeTimers implements HeartbeatTimers {
  t = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; every: number; fn: () => void }>();
  readonly #deferred: (() => void)[] = [];
  now(): number {
    return this.t;
  }
  every(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, every: ms, fn });
    return id;
  }
  after(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, every: 0, fn });
    return id;
  }
  defer(fn: () => void): void {
    this.#deferred.push(fn);
  }
  cancel(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves to `t`, firing due timers in time order, and the deferred work after each. */
  advance(t: number): void {
    for (;;) {
      let first: [number, { at: number; every: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= t && (first === undefined || e[1].at < first[1].at)) first = e;
      if (first === undefined) break;
      const [id, timer] = first;
      this.t = timer.at;
      if (timer.every > 0) timer.at += timer.every;
      else this.#timers.delete(id);
      timer.fn();
      while (this.#deferred.length > 0) (this.#deferred.shift() as () => void)();
    }
    this.t = t;
  }
}

function setup(intervalMs = 1_000, timeoutMs = 3_000, reportRtt = false) {
  const timers = new FakeTimers();
  const log: string[] = [];
  // Every Heartbeat sent: its send_time_us and last_rtt_us.
  const sent: { sendTimeUs: number; lastRttUs: number }[] = [];
  let lastReceived = 0;
  const hb = new Heartbeats(
    {
      beat: (sendTimeUs, lastRttUs) => {
        log.push(`beat@${timers.t}`);
        sent.push({ sendTimeUs, lastRttUs });
      },
      lastReceivedAt: () => lastReceived,
      dead: (ms) => log.push(`dead@${timers.t} after ${ms}`),
    },
    intervalMs,
    timeoutMs,
    timers,
    reportRtt,
  );
  return { timers, log, sent, hb, heard: (t: number) => (lastReceived = t) };
}

describe("Heartbeats (client)", () => {
  it("beats every interval and declares a silent server dead at the timeout, once", () => {
    const { timers, log, hb } = setup();
    hb.start();
    timers.advance(2_999);
    expect(log).toEqual(["beat@1000", "beat@2000"]);
    timers.advance(10_000);
    expect(log).toEqual(["beat@1000", "beat@2000", "beat@3000", "dead@3000 after 3000"]);
    expect(timers.pending).toBe(0);
  });

  it("anything heard pushes the deadline to the last bytes + timeout; stop() ends both timers", () => {
    const { timers, log, hb, heard } = setup();
    hb.start();
    timers.advance(2_500);
    heard(2_500);
    timers.advance(5_499);
    expect(log.filter((l) => l.startsWith("dead"))).toEqual([]);
    timers.advance(5_500);
    expect(log.at(-1)).toBe("dead@5500 after 3000");
    const again = setup();
    again.hb.start();
    again.timers.advance(1_500);
    again.hb.stop();
    again.timers.advance(60_000);
    expect(again.log).toEqual(["beat@1000"]);
    expect(again.timers.pending).toBe(0);
  });

  it("measures each ack's round trip on its own clock and reports it once, in the next Heartbeat (heartbeat-rtt granted)", () => {
    const { timers, sent, hb } = setup(1_000, 60_000, true);
    hb.start();
    timers.advance(1_000);
    expect(sent).toEqual([{ sendTimeUs: 1_000_000, lastRttUs: 0 }]); // nothing measured yet
    timers.advance(1_025);
    expect(hb.acked(sent[0]?.sendTimeUs as number)).toBe(25);
    timers.advance(2_000);
    timers.advance(3_000);
    // The 25 ms round trip in the next Heartbeat only; none measured after it.
    expect(sent.map((b) => b.lastRttUs)).toEqual([0, 25_000, 0]);
    timers.advance(3_000.4);
    expect(hb.acked(sent[2]?.sendTimeUs as number)).toBeCloseTo(0.4);
    timers.advance(4_000);
    expect(sent.at(-1)?.lastRttUs).toBe(400);
    hb.stop();
  });

  it("reports no round trip without heartbeat-rtt, and keeps none from an echo that is not its own time", () => {
    const plain = setup();
    plain.hb.start();
    plain.timers.advance(1_010);
    expect(plain.hb.acked(plain.sent[0]?.sendTimeUs as number)).toBe(10);
    plain.timers.advance(3_000);
    expect(plain.sent.map((b) => b.lastRttUs)).toEqual([0, 0, 0]);
    plain.hb.stop();
    const rtt = setup(1_000, 3_000, true);
    rtt.hb.start();
    rtt.timers.advance(1_500);
    expect(rtt.hb.acked(9_000_000_000)).toBeUndefined(); // from the future
    expect(rtt.hb.acked(Number.NaN)).toBeUndefined();
    rtt.timers.advance(2_000);
    expect(rtt.sent.map((b) => b.lastRttUs)).toEqual([0, 0]);
    rtt.hb.stop();
  });
});

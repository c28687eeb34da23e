import { describe, expect, it } from "vitest";
import { CHECK_UNITS, READ_AHEAD_MIN_WRITES, READ_AHEAD_PER_WRITE, type SlicedTask, TurnSlicer } from "../src/routing/turn-slicer.js";

// A slicer on a fake clock and a manual scheduler: `turn()` runs what setImmediate would run next.
function fake(sliceMs = 10, flushEveryMs = 100, readAheadBytes?: number) {
  let t = 0;
  const queue: (() => void)[] = [];
  const slicer = new TurnSlicer({ sliceMs, flushEveryMs, readAheadBytes, now: () => t, schedule: (fn) => queue.push(fn) });
  return {
    slicer,
    advance: (ms: number) => {
      t += ms;
    },
    /** Runs the callbacks scheduled so far (one check phase); returns how many. */
    turn: () => {
      const now = queue.splice(0);
      for (const fn of now) fn();
      return now.length;
    },
    get scheduled() {
      return queue.length;
    },
  };
}

// A task of `steps` steps of `ms` each, recording what ran.
function task(log: string[], name: string, steps: number, advance: (ms: number) => void, ms = 1): SlicedTask {
  let left = steps;
  return {
    runSlice(slicer) {
      while (left > 0) {
        left--;
        advance(ms);
        log.push(name);
        if (left > 0 && slicer.expired()) return false;
      }
      return true;
    },
  };
}

describe("TurnSlicer", () => {
  it("runs deferred work in slices of at most sliceMs, one slice per turn, in order", () => {
    const f = fake(10);
    const log: string[] = [];
    f.slicer.defer(task(log, "a", 25, f.advance));
    f.slicer.defer(task(log, "b", 3, f.advance));
    expect(log).toEqual([]); // never synchronously
    f.turn();
    expect(log.length).toBe(10);
    f.turn();
    expect(log.length).toBe(20);
    f.turn();
    expect(log).toEqual([...Array(25).fill("a"), "b", "b", "b"]);
    expect(f.slicer.pending.work).toBe(0);
    f.turn();
    expect(f.scheduled).toBe(0); // nothing left: no more turns scheduled
  });

  it("spend() reads the clock once per CHECK_UNITS units and reports the budget spent until the phase ends", () => {
    let reads = 0;
    let t = 0;
    const queue: (() => void)[] = [];
    const slicer = new TurnSlicer({
      sliceMs: 5,
      now: () => {
        reads++;
        return t;
      },
      schedule: (fn) => queue.push(fn),
    });
    for (let i = 0; i < CHECK_UNITS - 1; i++) expect(slicer.spend(1)).toBe(false);
    expect(reads).toBe(0);
    expect(slicer.spend(1)).toBe(false); // first read starts the phase's budget
    expect(reads).toBe(1);
    t = 6;
    expect(slicer.spend(CHECK_UNITS)).toBe(true);
    expect(slicer.spend(1)).toBe(true); // stays spent without reading the clock
    expect(reads).toBe(2);
    for (const fn of queue.splice(0)) fn(); // the phase ends (setImmediate)
    expect(slicer.expired()).toBe(false);
  });

  it("work a running task defers runs before the rest of that task, ahead of later work", () => {
    const f = fake(10);
    const log: string[] = [];
    const child = task(log, "child", 2, f.advance);
    let step = 0;
    const parent: SlicedTask = {
      runSlice(slicer) {
        step++;
        log.push(`parent${step}`);
        if (step === 1) {
          expect(slicer.backlogged).toBe(false); // other queued work does not hold a running task back
          slicer.defer(child);
          expect(slicer.backlogged).toBe(true); // … its own deferred work does
          return false;
        }
        return true;
      },
    };
    f.slicer.defer(parent);
    f.slicer.defer(task(log, "later", 1, f.advance));
    expect(f.slicer.backlogged).toBe(true);
    f.turn();
    expect(log).toEqual(["parent1", "child", "child", "parent2", "later"]);
  });

  it("a task that rotates goes behind the others when not done; one that does not stays at the head", () => {
    const f = fake(3);
    const log: string[] = [];
    const rotating = { ...task(log, "r", 6, f.advance), rotates: true };
    f.slicer.defer(rotating);
    f.slicer.defer(task(log, "x", 1, f.advance));
    f.turn(); // r r r (budget): r goes behind x
    f.turn(); // x, r r
    f.turn(); // r
    expect(log).toEqual(["r", "r", "r", "x", "r", "r", "r"]);
    const g = fake(3);
    const log2: string[] = [];
    g.slicer.defer(task(log2, "a", 6, g.advance));
    g.slicer.defer(task(log2, "b", 1, g.advance));
    g.turn();
    g.turn();
    g.turn();
    expect(log2).toEqual(["a", "a", "a", "a", "a", "a", "b"]);
  });

  it("holds writes back while work is queued, but never longer than flushEveryMs", () => {
    const f = fake(10, 30);
    const log: string[] = [];
    f.slicer.defer(task(log, "w", 100, f.advance));
    f.slicer.flushLater(() => log.push("flush"));
    f.turn(); // 10 ms of work; the write waited 10 ms
    f.turn(); // 20
    f.turn(); // 30: now due
    expect(log.filter((x) => x === "flush")).toEqual([]);
    f.turn();
    expect(log.indexOf("flush")).toBeGreaterThan(0);
    expect(log.indexOf("flush")).toBeLessThan(40);
    // With no work queued, writes go in the next slice.
    const f2 = fake();
    const log2: string[] = [];
    f2.slicer.flushLater(() => log2.push("flush"));
    f2.turn();
    expect(log2).toEqual(["flush"]);
  });

  it("bounds writes per slice too: 10,000 writes of 0.01 ms take 10 turns of 10 ms", () => {
    const f = fake(10);
    let done = 0;
    for (let i = 0; i < 10_000; i++)
      f.slicer.flushLater(() => {
        done++;
        f.advance(0.01);
      });
    let turns = 0;
    while (f.scheduled > 0 && turns < 100) {
      f.turn();
      turns++;
    }
    expect(done).toBe(10_000);
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(turns).toBeLessThanOrEqual(12);
  });

  it("runs idle callbacks only once no work and no write is queued", () => {
    const f = fake(10);
    const log: string[] = [];
    f.slicer.whenIdle(() => log.push("idle"));
    f.slicer.defer(task(log, "w", 15, f.advance));
    f.slicer.flushLater(() => log.push("flush"));
    f.turn();
    expect(log).not.toContain("idle");
    f.turn();
    f.turn();
    expect(log.slice(-2)).toEqual(["flush", "idle"]);
  });

  it("runs caught-up callbacks once no work is queued and the writes left are many small ones, not one large one", () => {
    const f = fake(10, 100, 1_000_000);
    const log: string[] = [];
    // A fan-out's round of writes: 2,000 connections with 200 bytes queued each. Work queued: not caught up.
    expect(READ_AHEAD_MIN_WRITES).toBeLessThanOrEqual(2_000);
    f.slicer.defer(task(log, "w", 15, f.advance));
    for (let i = 0; i < 2_000; i++) {
      f.slicer.queued(200);
      f.slicer.flushLater(() => {
        f.slicer.queued(-200);
        f.advance(0.02);
      });
    }
    f.slicer.whenCaughtUp(() => log.push("caught up"));
    f.turn();
    expect(log).not.toContain("caught up");
    f.turn(); // the work ends, a round of writes begins: 200 bytes per waiting write is little
    expect(log.at(-1)).toBe("caught up");
    expect(f.slicer.pending.writes).toBeGreaterThan(0);
    while (f.scheduled > 0) f.turn();
    expect(f.slicer.queuedBytes).toBe(0);

    // A fan-in: one connection with more than READ_AHEAD_PER_WRITE queued. Only once it is written.
    const log2: string[] = [];
    let writes = 0;
    const big = READ_AHEAD_PER_WRITE + 1;
    f.slicer.queued(big);
    f.slicer.flushLater(() => {
      writes++;
      f.slicer.queued(-big);
    });
    f.slicer.whenCaughtUp(() => log2.push(`caught up after ${writes} write(s)`));
    while (f.scheduled > 0) f.turn();
    expect(log2).toEqual(["caught up after 1 write(s)"]);

    // A few small writes (a unicast, a fan-out to 100 connections): waited for, as before.
    const log4: string[] = [];
    for (let i = 0; i < 100; i++) {
      f.slicer.queued(200);
      f.slicer.flushLater(() => f.slicer.queued(-200));
    }
    f.slicer.whenCaughtUp(() => log4.push(`caught up at ${f.slicer.queuedBytes} bytes`));
    while (f.scheduled > 0) f.turn();
    expect(log4).toEqual(["caught up at 0 bytes"]);

    // Many small writes, but more than readAheadBytes in all: only once below it.
    const g = fake(10, 100, 300_000);
    const log3: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      g.slicer.queued(200);
      g.slicer.flushLater(() => {
        g.slicer.queued(-200);
        g.advance(0.05);
      });
    }
    g.slicer.whenCaughtUp(() => log3.push(`caught up at ${g.slicer.queuedBytes} bytes`));
    while (g.scheduled > 0) g.turn();
    expect(log3).toHaveLength(1);
    const at = Number(log3[0]?.split(" ")[3]);
    expect(at).toBeLessThanOrEqual(300_000);
    expect(at).toBeGreaterThan(0); // before the last write: read-ahead, not idle
  });

  it("drops a task that throws, reports it, and goes on with the others", () => {
    let t = 0;
    const queue: (() => void)[] = [];
    const errors: unknown[] = [];
    const slicer = new TurnSlicer({ now: () => t, schedule: (fn) => queue.push(fn), onError: (err) => errors.push(err) });
    const log: string[] = [];
    slicer.defer({
      runSlice() {
        throw new Error("boom");
      },
    });
    slicer.defer(task(log, "next", 1, (ms) => (t += ms)));
    for (const fn of queue.splice(0)) fn();
    expect(log).toEqual(["next"]);
    expect(String(errors[0])).toContain("boom");
    expect(slicer.pending.work).toBe(0);
  });
});

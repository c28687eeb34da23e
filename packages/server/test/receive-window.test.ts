import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReceiveWindow } from "../src/session/receive-window.js";

describe("ReceiveWindow", () => {
  it("refuses more than the window, credits at half the window or on flush", () => {
    const w = new ReceiveWindow(1000);
    expect(w.consume(400)).toBe(true);
    expect(w.release(400)).toBe(0); // under half: wait for the end of the read batch
    expect(w.consume(700)).toBe(false); // 600 left
    expect(w.available).toBe(600);
    expect(w.consume(200)).toBe(true);
    expect(w.release(200)).toBe(600); // 600 ≥ 500: credited at once
    expect(w.available).toBe(1000);
    expect(w.flush()).toBe(0);
    expect(w.consume(1000)).toBe(true);
    expect(w.consume(1)).toBe(false);
    expect(() => new ReceiveWindow(0)).toThrow(RangeError);
  });

  it("never lets a client that respects the credits exceed, nor one that ignores them through", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 200 }), (size, sends) => {
        const w = new ReceiveWindow(size);
        let clientCredit = size; // what the client believes
        for (const n of sends) {
          if (n > clientCredit) {
            expect(w.consume(n)).toBe(false); // the server agrees it is over
            continue;
          }
          expect(w.consume(n)).toBe(true);
          clientCredit -= n;
          clientCredit += w.release(n);
          if (n % 3 === 0) clientCredit += w.flush();
          expect(w.available).toBe(clientCredit);
        }
      }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { Fifo } from "../src/fifo.js";

describe("Fifo", () => {
  it("keeps order across growth, wrap-around and unshift", () => {
    const q = new Fifo<number>(2);
    const model: number[] = [];
    let next = 0;
    for (let round = 0; round < 2_000; round++) {
      const op = (round * 7919) % 5;
      if (op < 3) {
        q.push(next);
        model.push(next++);
      } else if (op === 3) {
        expect(q.shift()).toBe(model.shift());
      } else if (model.length > 0) {
        const first = q.shift() as number;
        expect(first).toBe(model.shift());
        q.unshift(first);
        model.unshift(first);
      }
      expect(q.length).toBe(model.length);
      expect(q.peek()).toBe(model[0]);
    }
    while (model.length > 0) expect(q.shift()).toBe(model.shift());
    expect(q.shift()).toBeUndefined();
  });
});

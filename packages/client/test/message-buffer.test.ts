import { describe, expect, it } from "vitest";
import { MessageBuffer } from "../src/message-buffer.js";

describe("MessageBuffer", () => {
  it("drops the oldest item when full and counts it", async () => {
    const b = new MessageBuffer<number>(2);
    expect([b.push(1), b.push(2), b.push(3)]).toEqual([true, true, false]);
    expect(b.dropped).toBe(1);
    expect(await b.next()).toEqual({ value: 2, done: false });
    expect(await b.next()).toEqual({ value: 3, done: false });
    expect(b.size).toBe(0);
  });

  it("hands items straight to a waiting consumer", async () => {
    const b = new MessageBuffer<string>(1);
    const p = b.next();
    b.push("x");
    b.push("y");
    expect(await p).toEqual({ value: "x", done: false });
    expect(b.dropped).toBe(0);
  });

  it("ends after the buffered items; an error is thrown once, then done", async () => {
    const b = new MessageBuffer<number>(10);
    b.push(1);
    b.end(new Error("gone"));
    expect(b.push(2)).toBe(false);
    expect(await b.next()).toEqual({ value: 1, done: false });
    await expect(b.next()).rejects.toThrow("gone");
    expect(await b.next()).toEqual({ value: undefined, done: true });
  });

  it("wakes waiting consumers on end", async () => {
    const b = new MessageBuffer<number>(10);
    const waiting = [b.next(), b.next()];
    b.end();
    expect(await Promise.all(waiting)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
  });
});

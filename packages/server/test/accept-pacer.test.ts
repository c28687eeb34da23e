// AcceptPacer's decisions, without sockets: what it admits, queues and takes back.
import type { Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { AcceptPacer, MAX_EVICTIONS_PER_PUMP } from "../src/transport/accept-pacer.js";

const pacers: AcceptPacer[] = [];
afterEach(() => {
  for (const p of pacers.splice(0)) p.destroyAll();
});

const fakeSocket = () => ({ destroyed: false, destroy() {} }) as unknown as Socket;

function pacer(handshaking: () => number, max = 10) {
  const admitted: Socket[] = [];
  const waited: number[] = [];
  let evictions = 0;
  const p = new AcceptPacer({
    handshaking,
    maxHandshakes: () => max,
    maxWait: () => 60_000,
    admit: (s) => void admitted.push(s),
    expired: () => {},
    paced: () => {},
    // Every admitted connection is silent: each call closes one (its slot frees only once its socket closed).
    makeRoom: (ms) => {
      waited.push(ms);
      evictions++;
      return true;
    },
  });
  pacers.push(p);
  return { p, admitted, waited, evictions: () => evictions };
}

it("admits up to maxHandshakes at once and queues the rest", () => {
  let open = 0;
  const { p, admitted } = pacer(() => open);
  for (let i = 0; i < 15; i++) {
    p.offer(fakeSocket());
    open = admitted.length;
  }
  expect(admitted.length).toBe(10);
  expect(p.waiting).toBe(5);
  open = 7;
  p.pump();
  expect(admitted.length).toBe(13);
  expect(p.waiting).toBe(2);
});

it("closes at most one silent connection per waiting socket, and at most MAX_EVICTIONS_PER_PUMP per decision", () => {
  // Every slot stays taken (closed connections free theirs only once their sockets have closed).
  const few = pacer(() => 10);
  for (let i = 0; i < 3; i++) few.p.offer(fakeSocket());
  few.p.pump();
  expect(few.evictions()).toBe(3);
  const many = pacer(() => 10);
  for (let i = 0; i < 500; i++) many.p.offer(fakeSocket());
  many.p.pump();
  expect(many.evictions()).toBe(MAX_EVICTIONS_PER_PUMP);
  expect(many.admitted.length).toBe(0);
  expect(many.p.waiting).toBe(500);
});

it("tells makeRoom how long the oldest socket has waited (a queue that moves needs no room made)", async () => {
  const { p, waited } = pacer(() => 10);
  p.offer(fakeSocket());
  await new Promise((r) => setTimeout(r, 30));
  p.offer(fakeSocket());
  waited.length = 0;
  p.pump();
  expect(waited.length).toBe(2);
  expect(Math.min(...waited)).toBeGreaterThanOrEqual(29);
});

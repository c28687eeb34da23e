// At most MAX_SNAPSHOTS_PER_CONNECTION presence snapshots stream to one connection at once (PROTOCOL.md §7.2:
// each holds a capture of the fleet until it is read); a fifth is a non-fatal SERVER_FULL. The count is per
// connection, and a snapshot stops counting when it is sent or its subscription ends. Snapshots streaming
// to one connection at once are all sent whole (the writer once resumed only the last one that waited for
// a write: the others stalled, and kept counting against the limit, until their subscription ended).
// The socket-level attack is the hostile battery's "presence-snapshot bomb"; this drives the rule without sockets.
import { ErrorCode, type Frame, makeFrame } from "@hb/codec";
import { expect, it } from "vitest";
import { MAX_SNAPSHOTS_PER_CONNECTION } from "../../src/routing/router.js";
import { FakeCore, type FakePeer, drained } from "../fake-core.js";

const FLEET = 30;

const subscribe = (p: FakePeer, requestId: number) =>
  p.send(makeFrame("subscribe", { requestId, subject: "$hb.presence", snapshot: true, queueSize: 2 }));
// The request ids the server refused with SERVER_FULL, and whether any error was fatal.
const refused = (p: FakePeer) =>
  p.frames.flatMap((f: Frame) => (f.body.case === "error" && f.body.value.code === ErrorCode.SERVER_FULL ? [Number(f.body.value.ref)] : []));
const fatalErrors = (p: FakePeer) => p.frames.filter((f) => f.body.case === "error" && f.body.value.fatal).length;
const snapshotEvents = (p: FakePeer, channel: number) =>
  p.frames.filter((f) => f.channel === channel && f.body.case === "presence" && f.body.value.reason === "snapshot").length;
// Hold every write of `p` (its transport is over the high-water mark), or let them go.
function hold(p: FakePeer, held: boolean): void {
  p.transport.writableLength = held ? 1 << 30 : 0;
  if (!held) p.session.transportDrained();
}
async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await drained();
  expect(ok(), what).toBe(true);
}

it(`at most ${MAX_SNAPSHOTS_PER_CONNECTION} snapshots stream per connection, counted per connection, freed when sent or unsubscribed`, async () => {
  expect(MAX_SNAPSHOTS_PER_CONNECTION).toBe(4);
  const f = new FakeCore();
  for (let i = 0; i < FLEET; i++) f.hello(`node-${i}`);
  const a = f.hello("watcher-a");
  const b = f.hello("watcher-b");
  await drained();
  // Nothing they are sent leaves from now on: each snapshot stops at its queue of 2 events and keeps streaming.
  hold(a, true);
  hold(b, true);
  for (let r = 1; r <= 5; r++) subscribe(a, r);
  // Another connection has its own 4.
  for (let r = 1; r <= 4; r++) subscribe(b, r);
  await drained();
  // Request 1's subscription ends while its snapshot streams: a sixth starts, a seventh is one too many.
  const [first] = [...a.session.channels.values()];
  a.send(makeFrame("unsubscribe", {}, first?.channel));
  subscribe(a, 6);
  subscribe(a, 7);
  await drained();

  hold(a, false);
  hold(b, false);
  const streamed = () => [...a.session.channels.values()].map((s) => s.channel);
  await until("every snapshot sent whole", () => streamed().every((ch) => snapshotEvents(a, ch) >= FLEET + 2));
  expect(streamed()).toHaveLength(MAX_SNAPSHOTS_PER_CONNECTION);
  expect(refused(a)).toEqual([5, 7]);
  expect(refused(b)).toEqual([]);
  expect(fatalErrors(a) + fatalErrors(b)).toBe(0);

  // Sent: they no longer count, 4 more may stream.
  hold(a, true);
  for (let r = 8; r <= 11; r++) subscribe(a, r);
  await drained();
  hold(a, false);
  await until("the new snapshots sent whole", () => streamed().length === 8 && streamed().every((ch) => snapshotEvents(a, ch) >= FLEET + 2));
  expect(refused(a)).toEqual([5, 7]);
});

// A Hello held for a later turn (the turn's budget was spent when it arrived) pauses the transport; once it
// is handled and the session waits for its check (an async authenticate hook here; with worker processes,
// the primary's barrier), reading must go on, or the node's heartbeats are never read and it times out
// with its Welcome in hand (found by bench:scale with 2 workers: live nodes timed out 30 s after their Hello).
import { makeFrame } from "@hb/codec";
import { expect, it } from "vitest";
import { FakeCore, drained, spendTurn } from "./fake-core.js";

it("a held Hello whose check is still running leaves the transport reading; the Welcome and the heartbeat acks follow", async () => {
  let release: (ok: boolean) => void = () => {};
  const f = new FakeCore({ authenticate: () => new Promise<boolean>((r) => (release = r)) });
  const peer = f.connect();
  // The Hello that arrives after this is held for a later turn.
  spendTurn();
  peer.send(makeFrame("hello", { protocolVersion: 1, nodeId: "held" }));
  expect(peer.transport.paused).toBe(true);
  await drained();
  // Handled in a slice; the check is pending: the transport reads again.
  expect(peer.transport.paused).toBe(false);
  release(true);
  await drained();
  await drained();
  expect(peer.transport.kinds()).toContain("welcome");
  peer.send(makeFrame("heartbeat", { seq: 1n }));
  await drained();
  expect(peer.transport.kinds()).toContain("heartbeatAck");
  expect(peer.transport.paused).toBe(false);
});

import { describe, expect, it } from "vitest";
import { BusDirectory } from "../../src/bus/bus-directory.js";
import type { BusNode, BusPresence } from "../../src/core/ports/bus-link.js";

const ev = (kind: BusPresence["kind"], nodeId: string, memberId: string, reason = "r"): BusPresence => ({
  kind,
  nodeId,
  labels: {},
  reason,
  time: 1,
  memberId,
});
const node = (nodeId: string, memberId: string, state: BusNode["state"] = "online", labels = {}): BusNode => ({
  nodeId,
  labels,
  state,
  memberId,
});
const lines = (out: BusPresence[]) => out.map((e) => `${e.kind} ${e.nodeId} ${e.reason} @${e.memberId}`);

describe("BusDirectory", () => {
  it("ignores the local member's own events and unknown nodes", () => {
    const d = new BusDirectory("me");
    const out: BusPresence[] = [];
    d.apply(ev("joined", "n", "me"), out);
    d.apply(ev("suspect", "x", "a"), out);
    d.apply(ev("left", "x", "a"), out);
    expect(out).toEqual([]);
    expect(d.view.size).toBe(0);
  });

  it("falls back silently to another holder when the view's holder drops a node", () => {
    const d = new BusDirectory("me");
    const out: BusPresence[] = [];
    d.apply(ev("joined", "x", "a"), out);
    d.apply(ev("joined", "x", "b"), out); // both hold x for a moment; b is newer
    d.apply(ev("left", "x", "b", "replaced"), out); // b lost the tie-break
    expect(lines(out)).toEqual(["joined x r @a", "left x replaced @a", "joined x r @b"]);
    expect(d.locate("x")).toBe("a");
    expect(d.removeMember("a").map((n) => n.nodeId)).toEqual(["x"]);
    expect(d.locate("x")).toBeUndefined();
  });

  it("replace() reports differences with hints or reason resync", () => {
    const d = new BusDirectory("me");
    d.replace("a", [node("keep", "a"), node("gone", "a"), node("sus", "a"), node("lab", "a", "online", { v: "1" })], undefined, 5, undefined);
    const hints = new Map([["gone", ev("left", "gone", "a", "goodbye")], ["sus", ev("suspect", "sus", "a", "heartbeat_missed")]]);
    const out: BusPresence[] = [];
    d.replace("a", [node("keep", "a"), node("sus", "a", "suspect"), node("new", "a", "suspect"), node("lab", "a", "online", { v: "2" })], hints, 9, out);
    expect(lines(out)).toEqual([
      "left gone goodbye @a",
      "suspect sus heartbeat_missed @a",
      "joined new resync @a",
      "suspect new resync @a",
      "left lab resync @a",
      "joined lab resync @a",
    ]);
    expect(out.filter((e) => e.reason === "resync").every((e) => e.time === 9)).toBe(true);
    expect([...d.memberNodes("a").keys()].sort()).toEqual(["keep", "lab", "new", "sus"]);
    expect(d.view.get("lab")?.labels).toEqual({ v: "2" });
  });
});

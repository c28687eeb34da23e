import { describe, expect, it } from "vitest";
import type { BusLink, BusNode } from "../../src/core/ports/bus-link.js";
import type { NodeDirectory } from "../../src/core/ports/node-directory.js";
import { RemoteNodes } from "../../src/presence/remote-nodes.js";

// RemoteNodes without sockets: a replica that still lists a remote holder
// whose own LEFT replaced is on its way (one primary round trip, §8.1).
function setup() {
  const replica = new Map<string, BusNode>([["n", { nodeId: "n", labels: { k: "v" }, state: "online", memberId: "b" }]]);
  const bus = { remoteNodes: () => replica } as unknown as BusLink;
  const nodes = { slotOf: () => -1 } as unknown as NodeDirectory<unknown>;
  const emitted: string[] = [];
  const remote = new RemoteNodes({
    serverId: "a",
    bus,
    nodes,
    clock: { now: () => 0, epoch: (t) => 1_000 + t },
    emit: (name, nodeId, _labels, reason, _time, serverId) => emitted.push(`${name} ${nodeId} ${reason} @${serverId}`),
    replaceLocal: () => {},
  });
  return { replica, remote, emitted };
}

describe("RemoteNodes.takeOver (PROTOCOL.md §8.1, §5.7)", () => {
  it("reports the remote holder's LEFT replaced once, even when the id is taken again before that holder's LEFT arrives", () => {
    const { replica, remote, emitted } = setup();
    // An observer (or a node that has left since) took the id from b: b's LEFT replaced is reported here.
    expect(remote.takeOver("n", 0)).toBe(true);
    // A node registers the id here before b's own LEFT replaced came back: b holds nothing any more.
    expect(remote.takeOver("n", 1)).toBe(false);
    expect(emitted).toEqual(["nodeLeft n replaced @b"]);
    // b's late LEFT replaced arrives: not reported again, and the replica forgets b's entry.
    remote.presence({ kind: "left", nodeId: "n", labels: { k: "v" }, reason: "replaced", time: 1_000, memberId: "b" });
    replica.delete("n");
    expect(emitted).toEqual(["nodeLeft n replaced @b"]);
    // b registers the id again later: a new holder, taken over (and reported) normally.
    replica.set("n", { nodeId: "n", labels: {}, state: "online", memberId: "b" });
    remote.presence({ kind: "joined", nodeId: "n", labels: {}, reason: "hello", time: 2_000, memberId: "b" });
    expect(remote.takeOver("n", 2)).toBe(true);
    expect(emitted).toEqual(["nodeLeft n replaced @b", "nodeJoined n hello @b", "nodeLeft n replaced @b"]);
  });
});

import { describe, expect, it } from "vitest";
import { GatewayNodes } from "../src/gateway-nodes.js";

const add = (g: GatewayNodes, id: string) => g.add(id, {}, undefined, undefined);

describe("GatewayNodes", () => {
  it("hands out handles from 1 and reuses freed ones", () => {
    const g = new GatewayNodes();
    expect([add(g, "a").handle, add(g, "b").handle, add(g, "c").handle]).toEqual([1, 2, 3]);
    g.remove("b");
    expect(add(g, "d").handle).toBe(2);
    expect(add(g, "e").handle).toBe(4);
    expect(g.byHandle(2)?.nodeId).toBe("d");
    expect(() => add(g, "a")).toThrow(/already attached/);
  });

  it("holds back the handle of a node removed while its Attach is unanswered", () => {
    const g = new GatewayNodes();
    const a = add(g, "a");
    a.state = "pending";
    g.remove("a");
    expect(add(g, "b").handle).toBe(2); // 1 is awaiting the server's answer
    expect(g.settleRemoved(1)).toBe(true);
    expect(add(g, "c").handle).toBe(1);
    expect(g.settleRemoved(1)).toBe(false);
  });

  it("frees held-back handles when the connection is lost, and resets every node to unsent", () => {
    const g = new GatewayNodes();
    const a = add(g, "a");
    const b = add(g, "b");
    a.state = "pending";
    b.state = "attached";
    g.remove("a");
    g.connectionLost();
    expect(b.state).toBe("unsent");
    expect(add(g, "c").handle).toBe(1);
  });

  it("builds BatchHeartbeat: all when every node is alive, else the alive handles", () => {
    const g = new GatewayNodes();
    expect(g.batchHeartbeat()).toBeUndefined();
    for (const id of ["a", "b", "c"]) g.add(id, {}, undefined, undefined).state = "attached";
    expect(g.batchHeartbeat()).toEqual({ handles: [], all: true });
    g.setAlive("b", false);
    expect(g.batchHeartbeat()).toEqual({ handles: [1, 3], all: false });
    g.setAlive("b", false); // idempotent
    g.setAlive("a", false);
    g.setAlive("c", false);
    expect(g.batchHeartbeat()).toBeUndefined();
    g.remove("a");
    g.setAlive("b", true);
    g.setAlive("c", true);
    expect(g.batchHeartbeat()).toEqual({ handles: [], all: true });
    expect(g.setAlive("zzz", true)).toBe(false);
  });

  it("settles waiters: confirm resolves, refuse and clear reject", async () => {
    const g = new GatewayNodes();
    const results: string[] = [];
    const waiter = (id: string) => ({
      resolve: (i: { handle: number }) => results.push(`${id}:ok:${i.handle}`),
      reject: (e: Error) => results.push(`${id}:${e.message}`),
    });
    const a = g.add("a", {}, undefined, waiter("a"));
    const b = g.add("b", {}, undefined, waiter("b"));
    g.add("c", {}, undefined, waiter("c"));
    a.state = "pending";
    b.state = "pending";
    g.confirm(a);
    expect(g.refuse(b, new Error("no"))).toBe(true);
    expect(add(g, "d").handle).toBe(2); // refused handle is free at once
    g.clear(new Error("closed"));
    expect(results).toEqual(["a:ok:1", "b:no", "c:closed"]);
    expect(g.size).toBe(0);
  });
});

describe("GatewayNodes.planWelcome", () => {
  function lostWith(states: Array<"unsent" | "pending" | "attached">) {
    const g = new GatewayNodes();
    states.forEach((st, i) => {
      g.add(`n${i + 1}`, {}, undefined, undefined).state = st;
    });
    g.connectionLost();
    return g;
  }

  it("attaches every node again after any Welcome, fresh or resumed (a resume does not restore handles)", () => {
    const g = lostWith(["attached", "pending", "unsent"]);
    const plan = g.planWelcome();
    expect(plan.attach.map((n) => n.handle)).toEqual([1, 2, 3]);
    for (const n of plan.attach) g.markSent(n);
    expect(g.get("n1")?.state).toBe("pending");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LabelInterner } from "../src/registry/label-interner.js";
import { NodeRegistry, SLOT_ONLINE, SLOT_SUSPECT } from "../src/registry/node-registry.js";

describe("NodeRegistry", () => {
  it("adds, finds and removes nodes, reusing slots", () => {
    const r = new NodeRegistry<string>(16);
    const a = r.add("a", { role: "db" }, "owner-a", 0, 100);
    const b = r.add("b", {}, "owner-b", 7, 200);
    expect(r.slotOf("a")).toBe(a);
    expect(r.id(b)).toBe("b");
    expect(r.owner(a)).toBe("owner-a");
    expect(r.handle(b)).toBe(7);
    expect(r.labels(a)).toEqual({ role: "db" });
    expect(r.lastHeard(b)).toBe(200);
    expect(r.size).toBe(2);
    r.remove(a);
    expect(r.slotOf("a")).toBe(-1);
    expect(r.isLive(a)).toBe(false);
    const c = r.add("c", {}, "owner-c", 0, 300);
    expect(c).toBe(a); // recycled
    expect(r.size).toBe(2);
  });

  it("refuses a duplicate id", () => {
    const r = new NodeRegistry<null>();
    r.add("x", {}, null, 0, 0);
    expect(() => r.add("x", {}, null, 0, 0)).toThrow(/already registered/);
  });

  it("keeps per-state counters and touches in O(1)", () => {
    const r = new NodeRegistry<null>();
    const slots = ["a", "b", "c"].map((id) => r.add(id, {}, null, 0, 0));
    r.setState(slots[0] as number, SLOT_SUSPECT);
    expect(r.count()).toBe(3);
    expect(r.count({ state: "online" })).toBe(2);
    expect(r.count({ state: "suspect" })).toBe(1);
    expect(r.touch(slots[0] as number, 50, true)).toBe(SLOT_SUSPECT);
    expect(r.heartbeats(slots[0] as number)).toBe(1);
    expect(r.lastHeard(slots[0] as number)).toBe(50);
    r.setState(slots[0] as number, SLOT_ONLINE);
    expect(r.count({ state: "suspect" })).toBe(0);
    r.remove(slots[1] as number);
    expect(r.count({ state: "online" })).toBe(2);
  });

  it("shares one frozen label object between nodes with equal labels", () => {
    const r = new NodeRegistry<null>();
    const a = r.add("a", { zone: "eu", rack: "1" }, null, 0, 0);
    const b = r.add("b", { rack: "1", zone: "eu" }, null, 0, 0);
    expect(r.labels(a)).toBe(r.labels(b));
    expect(Object.isFrozen(r.labels(a))).toBe(true);
    expect(r.labelSets).toBe(2); // the empty set and this one
  });

  it("counts and lists by labels and state without scanning other nodes", () => {
    const r = new NodeRegistry<null>();
    for (let i = 0; i < 30; i++) {
      r.add(`n${i}`, { zone: i % 3 === 0 ? "eu" : "us", tier: i % 2 === 0 ? "a" : "b" }, null, 0, 0);
    }
    r.setState(r.slotOf("n0"), SLOT_SUSPECT);
    expect(r.count({ labels: { zone: "eu" } })).toBe(10);
    expect(r.count({ labels: { zone: "eu", tier: "a" } })).toBe(5);
    expect(r.count({ labels: { zone: "eu" }, state: "suspect" })).toBe(1);
    expect(r.count({ labels: { zone: "mars" } })).toBe(0);
    const ids: string[] = [];
    r.forEach({ labels: { zone: "eu", tier: "a" }, state: "online" }, (s) => {
      ids.push(r.id(s));
    });
    expect(ids.sort()).toEqual(["n12", "n18", "n24", "n6"]);
    let visited = 0;
    r.forEach({}, () => ++visited < 5);
    expect(visited).toBe(5);
  });

  it("moves a node between label sets", () => {
    const r = new NodeRegistry<null>();
    const s = r.add("a", { v: "1" }, null, 0, 0);
    r.setLabels(s, { v: "2" });
    expect(r.count({ labels: { v: "1" } })).toBe(0);
    expect(r.count({ labels: { v: "2" } })).toBe(1);
    expect(r.labelSets).toBe(2);
  });

  it("agrees with a naive model under random operations", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), id: fc.nat(30), zone: fc.nat(3) }),
      fc.record({ kind: fc.constant("remove" as const), id: fc.nat(30) }),
      fc.record({ kind: fc.constant("suspect" as const), id: fc.nat(30), on: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const r = new NodeRegistry<null>(16);
        const model = new Map<string, { zone: string; suspect: boolean }>();
        for (const o of ops) {
          const id = `n${o.id}`;
          const slot = r.slotOf(id);
          if (o.kind === "add" && slot < 0) {
            r.add(id, o.zone === 0 ? {} : { zone: `z${o.zone}` }, null, 0, 0);
            model.set(id, { zone: o.zone === 0 ? "" : `z${o.zone}`, suspect: false });
          } else if (o.kind === "remove" && slot >= 0) {
            r.remove(slot);
            model.delete(id);
          } else if (o.kind === "suspect" && slot >= 0) {
            r.setState(slot, o.on ? SLOT_SUSPECT : SLOT_ONLINE);
            (model.get(id) as { suspect: boolean }).suspect = o.on;
          }
        }
        expect(r.size).toBe(model.size);
        for (const zone of ["z1", "z2", "z3"]) {
          for (const state of ["online", "suspect"] as const) {
            const want = [...model].filter(([, v]) => v.zone === zone && v.suspect === (state === "suspect"));
            expect(r.count({ labels: { zone }, state })).toBe(want.length);
            const got: string[] = [];
            r.forEach({ labels: { zone }, state }, (s) => {
              got.push(r.id(s));
            });
            expect(got.sort()).toEqual(want.map(([id]) => id).sort());
          }
        }
        expect(r.count({ state: "suspect" })).toBe([...model.values()].filter((v) => v.suspect).length);
      }),
    );
  });
});

describe("LabelInterner", () => {
  it("forgets a set when its last reference goes, and reuses its id", () => {
    const li = new LabelInterner();
    const a = li.intern({ k: "v" });
    expect(li.intern({ k: "v" })).toBe(a);
    expect(li.refs(a)).toBe(2);
    li.release(a);
    li.release(a);
    expect(li.matching({ k: "v" })).toEqual([]);
    const b = li.intern({ other: "x" });
    expect(b).toBe(a);
    expect(li.labels(b)).toEqual({ other: "x" });
  });

  it("does not confuse keys and values that contain separators", () => {
    const li = new LabelInterner();
    const a = li.intern({ "a\u0000b": "c" });
    const b = li.intern({ a: "b\u0000c" });
    expect(a).not.toBe(b);
  });
});

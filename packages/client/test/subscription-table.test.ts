import { describe, expect, it } from "vitest";
import { OverflowPolicy } from "@hb/codec";
import { FIRST_SUBSCRIBE_ID, SubscriptionTable } from "../src/subscription-table.js";
import { Subscription, type SubscriptionControl } from "../src/subscription.js";

function add(t: SubscriptionTable, subject: string) {
  let control: SubscriptionControl<unknown> | undefined;
  const sub = new Subscription<unknown>(subject, 10, { unsubscribe: () => {}, closed: () => {} }, (c) => {
    control = c;
  });
  return t.add({
    sub,
    control: control as SubscriptionControl<unknown>,
    presence: false,
    snapshot: false,
    labelFilter: {},
    overflow: OverflowPolicy.UNSPECIFIED,
    queueSize: 0,
  });
}

describe("SubscriptionTable", () => {
  it("hands out Subscribe request ids from 2^31 and maps Subscribed to the entry", () => {
    const t = new SubscriptionTable();
    const a = add(t, "a");
    const b = add(t, "b");
    const ida = t.nextRequestId();
    const idb = t.nextRequestId();
    expect([ida, idb]).toEqual([FIRST_SUBSCRIBE_ID, FIRST_SUBSCRIBE_ID + 1]);
    t.markSent(a, ida);
    t.markSent(b, idb);
    expect(t.byRequest(ida)).toBe(a);
    expect(t.confirm(idb, 5)).toEqual({ entry: b });
    expect(b).toMatchObject({ state: "active", channel: 5 });
    expect(t.byChannel(5)).toBe(b);
    expect(t.confirm(12345, 6)).toBeUndefined();
  });

  it("unsubscribes the channel of a subscription removed before its Subscribed arrived", () => {
    const t = new SubscriptionTable();
    const a = add(t, "a");
    const id = t.nextRequestId();
    t.markSent(a, id);
    expect(t.remove(a)).toBeUndefined();
    expect(t.size).toBe(0);
    expect(t.confirm(id, 9)).toEqual({ orphanChannel: 9 });
    expect(t.confirm(id, 9)).toBeUndefined();
    // A refusal for it instead is swallowed.
    const b = add(t, "b");
    const id2 = t.nextRequestId();
    t.markSent(b, id2);
    t.remove(b);
    expect(t.refuse(id2)).toBeNull();
  });

  it("returns the channel to unsubscribe when an active subscription is removed", () => {
    const t = new SubscriptionTable();
    const a = add(t, "a");
    const id = t.nextRequestId();
    t.markSent(a, id);
    t.confirm(id, 3);
    expect(t.remove(a)).toBe(3);
    expect(t.byChannel(3)).toBeUndefined();
    expect(t.remove(a)).toBeUndefined();
  });

  it("removes a refused subscription and one whose channel the server does not know", () => {
    const t = new SubscriptionTable();
    const a = add(t, "a");
    const b = add(t, "b");
    const ida = t.nextRequestId();
    t.markSent(a, ida);
    expect(t.refuse(ida)).toBe(a);
    expect(t.refuse(999)).toBeUndefined();
    const idb = t.nextRequestId();
    t.markSent(b, idb);
    t.confirm(idb, 4);
    expect(t.unknownChannel(4)).toBe(b);
    expect(t.unknownChannel(4)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it("after a fresh Welcome subscribes everything again; after a resumed one unsubscribes the old channels first", () => {
    const t = new SubscriptionTable();
    const a = add(t, "a");
    const b = add(t, "b");
    const c = add(t, "c");
    for (const [e, ch] of [
      [a, 1],
      [b, 2],
    ] as const) {
      const id = t.nextRequestId();
      t.markSent(e, id);
      t.confirm(id, ch);
    }
    t.markSent(c, t.nextRequestId()); // in flight when the connection is lost
    t.connectionLost();
    expect([a.state, b.state, c.state]).toEqual(["unsent", "unsent", "unsent"]);
    expect(t.byChannel(1)).toBeUndefined();
    t.remove(b); // while disconnected

    const fresh = t.planWelcome(false);
    expect(fresh.unsubscribe).toEqual([]);
    expect(fresh.subscribe).toEqual([a, c]);

    // Again, resumed this time.
    const id = t.nextRequestId();
    t.markSent(a, id);
    t.confirm(id, 7);
    t.connectionLost();
    const resumed = t.planWelcome(true);
    expect(resumed.unsubscribe).toEqual([7]);
    expect(resumed.subscribe).toEqual([a, c]);
    expect(t.unknownChannel(7)).toBeNull(); // the server's UNKNOWN_CHANNEL answer is expected
  });

  it("never hands out a request id that is still in use when the counter wraps", () => {
    const t = new SubscriptionTable();
    const ids = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const e = add(t, `s${i}`);
      const id = t.nextRequestId();
      expect(ids.has(id)).toBe(false);
      ids.add(id);
      t.markSent(e, id);
    }
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(FIRST_SUBSCRIBE_ID);
    expect(Math.max(...ids)).toBeLessThanOrEqual(0xffff_ffff);
  });
});

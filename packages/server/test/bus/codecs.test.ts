import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BusEnvelope, BusPresence } from "../../src/core/ports/bus-link.js";
import { decodeDirectoryEntry, encodeDirectoryEntry } from "../../src/bus/directory-entry-codec.js";
import { decodeEnvelope, encodeEnvelope, isEnvelopeFrom } from "../../src/bus/envelope-codec.js";
import { decodePresenceMessage, encodePresenceMessage, type PresenceMessage } from "../../src/bus/presence-codec.js";
import { fromBinary } from "@bufbuild/protobuf";
import {
  ChangeKind,
  DirectoryEntrySchema,
  EnvelopeSchema,
  EnvelopeType,
  NodeState,
  PresenceMessageSchema,
} from "../../src/gen/hb/internal/v1/bus_pb.js";

const id = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" });
const body = fc.uint8Array({ maxLength: 300 });
const labels = fc.dictionary(fc.string({ minLength: 1, maxLength: 10, unit: "grapheme" }), fc.string({ maxLength: 20 }), {
  maxKeys: 5,
});
const envelope: fc.Arbitrary<BusEnvelope> = fc.oneof(
  fc.record({ type: fc.constant("publish" as const), subject: fc.string({ maxLength: 30 }), body }),
  fc.record({ type: fc.constant("direct" as const), nodeId: id, body }),
  fc.record({ type: fc.constant("reply" as const), nodeId: id, body }),
  fc.record({ type: fc.constant("broadcast" as const), body }),
  fc.record({ type: fc.constant("broadcast" as const), body, exceptNodeId: id }),
);
const change = (memberId: string): fc.Arbitrary<BusPresence> =>
  fc.record({
    kind: fc.constantFrom("joined", "left", "suspect", "timed_out", "recovered", "updated" as const),
    nodeId: id,
    labels,
    reason: fc.string({ maxLength: 20 }),
    time: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
    memberId: fc.constant(memberId),
    previousLabels: labels,
  }, { requiredKeys: ["kind", "nodeId", "labels", "reason", "time", "memberId"] });
const message: fc.Arbitrary<PresenceMessage> = id.chain((memberId) =>
  fc.oneof(
    fc.record({ type: fc.constant("event" as const), seq: fc.nat(), event: change(memberId) }),
    fc.record({
      type: fc.constant("sync" as const),
      memberId: fc.constant(memberId),
      seq: fc.nat(),
      hints: fc.array(change(memberId), { maxLength: 4 }),
    }),
    fc.record({ type: fc.constant("lost" as const), memberId: fc.constant(memberId) }),
  ),
);

describe("envelope codec", () => {
  it("round-trips every envelope, body bytes intact and not copied", () => {
    fc.assert(
      fc.property(envelope, id, (env, from) => {
        const wire = encodeEnvelope(env, from);
        const back = decodeEnvelope(wire);
        expect(back.fromMember).toBe(from);
        expect({ ...back.envelope, body: [...back.envelope.body] }).toEqual({ ...env, body: [...env.body] });
        expect(back.envelope.body.buffer).toBe(wire.buffer);
      }),
    );
  });

  it("tells its sender without decoding", () => {
    fc.assert(
      fc.property(envelope, id, id, (env, from, other) => {
        const wire = encodeEnvelope(env, from);
        expect(isEnvelopeFrom(wire, Buffer.from(from))).toBe(true);
        expect(isEnvelopeFrom(wire, Buffer.from(other))).toBe(from === other);
        expect(isEnvelopeFrom(wire.subarray(0, 1), Buffer.from(from))).toBe(false);
      }),
    );
  });

  it("takes 8 bytes + member id + key on top of a 100-byte body", () => {
    const wire = encodeEnvelope({ type: "direct", nodeId: "n".repeat(36), body: new Uint8Array(100) }, "s".repeat(20));
    expect(wire.length).toBe(100 + 36 + 20 + 8);
  });

  it("is the hb.internal.v1.Envelope of the schema, byte for byte, both ways", () => {
    const types = { publish: EnvelopeType.PUBLISH, direct: EnvelopeType.DIRECT, broadcast: EnvelopeType.BROADCAST, reply: EnvelopeType.REPLY };
    fc.assert(
      fc.property(envelope, id, (env, from) => {
        const key = env.type === "publish" ? env.subject : env.type === "broadcast" ? (env.exceptNodeId ?? "") : env.nodeId;
        const generated = toBinary(EnvelopeSchema, create(EnvelopeSchema, { fromMember: from, type: types[env.type], key, body: env.body }));
        expect([...encodeEnvelope(env, from)]).toEqual([...generated]);
        expect(decodeEnvelope(generated).fromMember).toBe(from);
      }),
    );
  });

  it("rejects truncated input and unknown types", () => {
    const wire = encodeEnvelope({ type: "publish", subject: "a.b", body: new Uint8Array(4) }, "m");
    expect(() => decodeEnvelope(wire.subarray(0, 4))).toThrow(RangeError);
    expect(() => decodeEnvelope(Uint8Array.of(0x10, 9))).toThrow(/unknown envelope type/);
    expect(() => decodeEnvelope(Uint8Array.of(9, 0))).toThrow(RangeError);
  });
});

describe("presence codec", () => {
  it("round-trips every message", () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodePresenceMessage(encodePresenceMessage(m))).toEqual(m);
      }),
    );
  });

  it("rejects any truncation and trailing bytes", () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const wire = encodePresenceMessage(m);
        expect(() => decodePresenceMessage(wire.subarray(0, cut % wire.length))).toThrow(RangeError);
        expect(() => decodePresenceMessage(Buffer.concat([wire, Buffer.of(0)]))).toThrow(RangeError);
      }),
    );
  });

  it("is the hb.internal.v1.PresenceMessage of the schema, both ways", () => {
    const kinds = {
      joined: ChangeKind.JOINED,
      left: ChangeKind.LEFT,
      suspect: ChangeKind.SUSPECT,
      timed_out: ChangeKind.TIMED_OUT,
      recovered: ChangeKind.RECOVERED,
      updated: ChangeKind.UPDATED,
    };
    const change = (e: BusPresence) => ({
      kind: kinds[e.kind],
      nodeId: e.nodeId,
      labels: { ...e.labels },
      reason: e.reason,
      timeMs: BigInt(e.time),
      previousLabels: { ...e.previousLabels },
      labelsChanged: e.previousLabels !== undefined,
    });
    fc.assert(
      fc.property(message, (m) => {
        const init =
          m.type === "event"
            ? { message: { case: "event" as const, value: { memberId: m.event.memberId, seq: BigInt(m.seq), change: change(m.event) } } }
            : m.type === "sync"
              ? { message: { case: "sync" as const, value: { memberId: m.memberId, seq: BigInt(m.seq), hints: m.hints.map(change) } } }
              : { message: { case: "lost" as const, value: m.memberId } };
        const generated = create(PresenceMessageSchema, init);
        expect(fromBinary(PresenceMessageSchema, encodePresenceMessage(m))).toEqual(generated);
        expect(decodePresenceMessage(toBinary(PresenceMessageSchema, generated))).toEqual(m);
      }),
    );
  });

  it("keeps a __proto__ label as data", () => {
    const event: BusPresence = { kind: "joined", nodeId: "n", labels: JSON.parse('{"__proto__":"x"}'), reason: "", time: 1, memberId: "m" };
    const back = decodePresenceMessage(encodePresenceMessage({ type: "event", seq: 1, event }));
    expect(back.type === "event" && Object.getOwnPropertyDescriptor(back.event.labels, "__proto__")?.value).toBe("x");
  });
});

describe("directory entry codec", () => {
  it("round-trips state and labels", () => {
    fc.assert(
      fc.property(fc.constantFrom("online", "suspect" as const), labels, (state, l) => {
        expect(decodeDirectoryEntry(encodeDirectoryEntry(state, l), "n", "m")).toEqual({ nodeId: "n", labels: l, state, memberId: "m" });
        const generated = create(DirectoryEntrySchema, { state: state === "suspect" ? NodeState.SUSPECT : NodeState.ONLINE, labels: { ...l } });
        expect(fromBinary(DirectoryEntrySchema, encodeDirectoryEntry(state, l))).toEqual(generated);
        expect(decodeDirectoryEntry(toBinary(DirectoryEntrySchema, generated), "n", "m")).toEqual({ nodeId: "n", labels: l, state, memberId: "m" });
      }),
    );
  });
});

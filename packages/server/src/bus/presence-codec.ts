import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { BusPresence } from "../core/ports/bus-link.js";
import {
  ChangeKind,
  type PresenceChange,
  PresenceChangeSchema,
  PresenceMessageSchema,
} from "../gen/hb/internal/v1/bus_pb.js";
import { internLabels } from "./label-interner.js";

/**
 * A message on a bus's presence channel (`hb.internal.v1.PresenceMessage`,
 * proto/hb/internal/v1/bus.proto):
 * - `event`: one presence change of a node of `event.memberId`, numbered
 *   `seq` in that member's sequence (1, 2, 3, … without gaps, so a receiver
 *   notices a lost message);
 * - `sync`: the member rewrote its whole directory entry (start, or back
 *   from an outage) as of `seq`; `hints` are the last changes per node it
 *   could not announce meanwhile, so that receivers report them with their
 *   real kind and reason;
 * - `lost`: the member is gone (lease expired and reaped, or it left).
 */
export type PresenceMessage =
  | {
      /** `"event"`. */
      type: "event";
      /** Its number in `event.memberId`'s sequence. */
      seq: number;
      /** The change. */
      event: BusPresence;
    }
  | {
      /** `"sync"`. */
      type: "sync";
      /** The member that rewrote its directory entry. */
      memberId: string;
      /** Its sequence number at that moment. */
      seq: number;
      /** Its last change per node while it could not announce them. */
      hints: BusPresence[];
    }
  | {
      /** `"lost"`. */
      type: "lost";
      /** The member that is gone. */
      memberId: string;
    };

const KINDS: Readonly<Record<BusPresence["kind"], ChangeKind>> = {
  joined: ChangeKind.JOINED,
  left: ChangeKind.LEFT,
  suspect: ChangeKind.SUSPECT,
  timed_out: ChangeKind.TIMED_OUT,
  recovered: ChangeKind.RECOVERED,
};
const KIND_NAMES: Readonly<Record<number, BusPresence["kind"]>> = {
  [ChangeKind.JOINED]: "joined",
  [ChangeKind.LEFT]: "left",
  [ChangeKind.SUSPECT]: "suspect",
  [ChangeKind.TIMED_OUT]: "timed_out",
  [ChangeKind.RECOVERED]: "recovered",
};

/**
 * Encodes a presence-channel message (generated code: one per presence
 * change, not a hot path). A Buffer, as ioredis sends binary arguments.
 */
export function encodePresenceMessage(message: PresenceMessage): Buffer {
  const bytes = encode(message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function encode(message: PresenceMessage): Uint8Array {
  switch (message.type) {
    case "event":
      return toBinary(
        PresenceMessageSchema,
        create(PresenceMessageSchema, {
          message: {
            case: "event",
            value: { memberId: message.event.memberId, seq: BigInt(message.seq), change: change(message.event) },
          },
        }),
      );
    case "sync":
      return toBinary(
        PresenceMessageSchema,
        create(PresenceMessageSchema, {
          message: {
            case: "sync",
            value: { memberId: message.memberId, seq: BigInt(message.seq), hints: message.hints.map(change) },
          },
        }),
      );
    case "lost":
      return toBinary(PresenceMessageSchema, create(PresenceMessageSchema, { message: { case: "lost", value: message.memberId } }));
  }
}

/**
 * Decodes what {@link encodePresenceMessage} produced; equal label sets
 * decode to one shared frozen object.
 *
 * @throws RangeError for a malformed message
 */
export function decodePresenceMessage(input: Uint8Array): PresenceMessage {
  let m: ReturnType<typeof fromBinary<typeof PresenceMessageSchema>>;
  try {
    m = fromBinary(PresenceMessageSchema, input);
  } catch (err) {
    throw new RangeError(`malformed presence message: ${(err as Error).message}`);
  }
  const body = m.message;
  switch (body.case) {
    case "event": {
      const c = body.value.change;
      if (c === undefined) throw new RangeError("presence event without a change");
      return { type: "event", seq: Number(body.value.seq), event: busPresence(c, body.value.memberId) };
    }
    case "sync":
      return {
        type: "sync",
        memberId: body.value.memberId,
        seq: Number(body.value.seq),
        hints: body.value.hints.map((h) => busPresence(h, body.value.memberId)),
      };
    case "lost":
      return { type: "lost", memberId: body.value };
    default:
      throw new RangeError("presence message without a body");
  }
}

function change(e: BusPresence): PresenceChange {
  return create(PresenceChangeSchema, {
    kind: KINDS[e.kind],
    nodeId: e.nodeId,
    labels: { ...e.labels },
    reason: e.reason,
    timeMs: BigInt(Math.max(0, Math.round(e.time))),
  });
}

function busPresence(c: PresenceChange, memberId: string): BusPresence {
  const kind = KIND_NAMES[c.kind];
  if (kind === undefined) throw new RangeError(`unknown presence kind ${c.kind}`);
  return { kind, nodeId: c.nodeId, labels: internLabels(c.labels), reason: c.reason, time: Number(c.timeMs), memberId };
}

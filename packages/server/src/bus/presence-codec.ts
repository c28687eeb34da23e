import { BinaryReader } from "./binary-reader.js";
import { BinaryWriter } from "./binary-writer.js";
import type { BusPresence } from "../core/ports/bus-link.js";
import { readLabels, writeLabels } from "./label-codec.js";

/**
 * A message on a bus's presence channel:
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

const EVENT = 1;
const SYNC = 2;
const LOST = 3;

const KINDS = ["joined", "left", "suspect", "timed_out", "recovered"] as const;
const KIND_CODE: Record<BusPresence["kind"], number> = { joined: 1, left: 2, suspect: 3, timed_out: 4, recovered: 5 };

/**
 * Encodes a presence-channel message:
 *
 * ```
 * event: 1 memberId seq:varint change
 * sync:  2 memberId seq:varint count:varint change*count
 * lost:  3 memberId
 * change: kind:u8 nodeId:string labelCount:varint (key:string value:string)* reason:string time:varint
 * ```
 *
 * `kind` is 1 joined, 2 left, 3 suspect, 4 timed_out, 5 recovered; `time`
 * is ms since the Unix epoch. A change of a node with id `n1` and labels
 * `{ zone: "a" }` takes about 30 bytes plus the member id.
 */
export function encodePresenceMessage(message: PresenceMessage): Buffer {
  const w = new BinaryWriter(96);
  switch (message.type) {
    case "event":
      w.byte(EVENT).string(message.event.memberId).varint(message.seq);
      writeChange(w, message.event);
      break;
    case "sync":
      w.byte(SYNC).string(message.memberId).varint(message.seq).varint(message.hints.length);
      for (const hint of message.hints) writeChange(w, hint);
      break;
    case "lost":
      w.byte(LOST).string(message.memberId);
      break;
  }
  return w.finish();
}

/**
 * Decodes what {@link encodePresenceMessage} produced.
 *
 * @throws RangeError for a truncated or malformed message
 */
export function decodePresenceMessage(input: Uint8Array): PresenceMessage {
  const r = new BinaryReader(input);
  const type = r.byte();
  const memberId = r.string();
  let message: PresenceMessage;
  switch (type) {
    case EVENT: {
      const seq = r.varint();
      message = { type: "event", seq, event: readChange(r, memberId) };
      break;
    }
    case SYNC: {
      const seq = r.varint();
      const count = r.varint();
      if (count > r.remaining) throw new RangeError(`sync claims ${count} hints in ${r.remaining} bytes`);
      const hints: BusPresence[] = [];
      for (let i = 0; i < count; i++) hints.push(readChange(r, memberId));
      message = { type: "sync", memberId, seq, hints };
      break;
    }
    case LOST:
      message = { type: "lost", memberId };
      break;
    default:
      throw new RangeError(`unknown presence message type ${type}`);
  }
  r.end();
  return message;
}

function writeChange(w: BinaryWriter, e: BusPresence): void {
  w.byte(KIND_CODE[e.kind]).string(e.nodeId);
  writeLabels(w, e.labels);
  w.string(e.reason).varint(Math.max(0, Math.round(e.time)));
}

function readChange(r: BinaryReader, memberId: string): BusPresence {
  const code = r.byte();
  const kind = KINDS[code - 1];
  if (kind === undefined) throw new RangeError(`unknown presence kind ${code}`);
  const nodeId = r.string();
  const labels = readLabels(r);
  const reason = r.string();
  const time = r.varint();
  return { kind, nodeId, labels, reason, time, memberId };
}

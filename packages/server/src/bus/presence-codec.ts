import { writeVarint32 } from "@hb/codec";
import type { BusPresence } from "../core/ports/bus-link.js";
import { ChangeKind } from "../gen/hb/internal/v1/bus_pb.js";
import { internLabels } from "./label-interner.js";
import { ProtoReader, encodeLabels, lenField, varintField, writeString, writeVarint53 } from "./proto-bytes.js";

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
  updated: ChangeKind.UPDATED,
};
const KIND_NAMES: Readonly<Record<number, BusPresence["kind"]>> = {
  [ChangeKind.JOINED]: "joined",
  [ChangeKind.LEFT]: "left",
  [ChangeKind.SUSPECT]: "suspect",
  [ChangeKind.TIMED_OUT]: "timed_out",
  [ChangeKind.RECOVERED]: "recovered",
  [ChangeKind.UPDATED]: "updated",
};

// Tags (field << 3 | wire type) of proto/hb/internal/v1/bus.proto:
// PresenceMessage, PresenceEventMessage / PresenceSync, PresenceChange.
// Hand-tuned (see proto-bytes.ts for the figures); the tests check both
// ways against the generated code.
const MSG_EVENT = 0x0a;
const MSG_SYNC = 0x12;
const MSG_LOST = 0x1a;
const EV_MEMBER = 0x0a;
const EV_SEQ = 0x10;
const EV_CHANGE = 0x1a; // sync: hints
const CH_KIND = 0x08;
const CH_NODE = 0x12;
const CH_LABELS_FIELD = 3;
const CH_REASON = 0x22;
const CH_TIME = 0x28;
const CH_PREVIOUS_FIELD = 6;
const CH_CHANGED = 0x38; // labels_changed = 7, varint

/**
 * Encodes a presence-channel message. A Buffer, as ioredis sends binary
 * arguments.
 */
export function encodePresenceMessage(message: PresenceMessage): Buffer {
  if (message.type === "lost") {
    const n = Buffer.byteLength(message.memberId, "utf8");
    const out = Buffer.allocUnsafe(lenField(n));
    writeString(out, 0, MSG_LOST, message.memberId, n);
    return out;
  }
  const changes = message.type === "event" ? [change(message.event)] : message.hints.map(change);
  const memberId = message.type === "event" ? message.event.memberId : message.memberId;
  const memberLength = Buffer.byteLength(memberId, "utf8");
  let inner = (memberLength === 0 ? 0 : lenField(memberLength)) + (message.seq === 0 ? 0 : varintField(message.seq));
  for (const c of changes) inner += lenField(c.size);
  const out = Buffer.allocUnsafe(lenField(inner));
  out[0] = message.type === "event" ? MSG_EVENT : MSG_SYNC;
  let pos = writeVarint32(out, 1, inner);
  if (memberLength > 0) pos = writeString(out, pos, EV_MEMBER, memberId, memberLength);
  if (message.seq !== 0) {
    out[pos++] = EV_SEQ;
    pos = writeVarint53(out, pos, message.seq);
  }
  for (const c of changes) {
    out[pos++] = EV_CHANGE;
    pos = writeVarint32(out, pos, c.size);
    pos = writeChange(out, pos, c);
  }
  return out;
}

interface SizedChange {
  e: BusPresence;
  node: number;
  labels: Buffer;
  previous: Buffer | undefined;
  reason: number;
  time: number;
  size: number;
}

function change(e: BusPresence): SizedChange {
  const node = Buffer.byteLength(e.nodeId, "utf8");
  const labels = encodeLabels(CH_LABELS_FIELD, e.labels);
  const previous = e.previousLabels === undefined ? undefined : encodeLabels(CH_PREVIOUS_FIELD, e.previousLabels);
  const reason = Buffer.byteLength(e.reason, "utf8");
  const time = Math.max(0, Math.round(e.time));
  const size =
    2 +
    (node === 0 ? 0 : lenField(node)) +
    labels.length +
    (reason === 0 ? 0 : lenField(reason)) +
    (time === 0 ? 0 : varintField(time)) +
    (previous === undefined ? 0 : previous.length + 2);
  return { e, node, labels, previous, reason, time, size };
}

function writeChange(out: Buffer, pos: number, c: SizedChange): number {
  out[pos++] = CH_KIND;
  out[pos++] = KINDS[c.e.kind];
  if (c.node > 0) pos = writeString(out, pos, CH_NODE, c.e.nodeId, c.node);
  out.set(c.labels, pos);
  pos += c.labels.length;
  if (c.reason > 0) pos = writeString(out, pos, CH_REASON, c.e.reason, c.reason);
  if (c.time > 0) {
    out[pos++] = CH_TIME;
    pos = writeVarint53(out, pos, c.time);
  }
  if (c.previous !== undefined) {
    out.set(c.previous, pos);
    pos += c.previous.length;
    out[pos++] = CH_CHANGED;
    out[pos++] = 1;
  }
  return pos;
}

// Member ids as decoded, one string each: every change names its member, and a replica keeps the id in each of
// its nodes (a string per remote node in every worker: 24 B × 500,000 at 100,000 nodes on 6 workers). A bus
// has few members; cleared when full.
const memberIds = new Map<string, string>();
const MAX_MEMBER_IDS = 1_024;

function internMemberId(id: string): string {
  const known = memberIds.get(id);
  if (known !== undefined) return known;
  if (memberIds.size >= MAX_MEMBER_IDS) memberIds.clear();
  memberIds.set(id, id);
  return id;
}

/**
 * Decodes a presence-channel message; equal label sets decode to one shared
 * frozen object, equal member ids to one string.
 *
 * @throws RangeError for a malformed message
 */
export function decodePresenceMessage(input: Uint8Array): PresenceMessage {
  const r = new ProtoReader(input);
  const end = r.buf.length;
  let message: PresenceMessage | undefined;
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === MSG_LOST) message = { type: "lost", memberId: r.string(end) };
    else if (tag === MSG_EVENT || tag === MSG_SYNC) {
      const to = r.fieldEnd(end);
      let memberId = "";
      let seq = 0;
      const changes: [number, number][] = [];
      while (r.pos < to) {
        const t = r.tag(to);
        if (t === EV_MEMBER) memberId = internMemberId(r.string(to));
        else if (t === EV_SEQ) seq = r.varint53(to);
        else if (t === EV_CHANGE) {
          const from = r.pos;
          const changeEnd = r.fieldEnd(to);
          changes.push([from, changeEnd]);
          r.pos = changeEnd;
        } else r.skip(t & 7, to);
      }
      const decoded = changes.map(([from, changeEnd]) => {
        r.pos = from;
        r.fieldEnd(changeEnd);
        return readChange(r, changeEnd, memberId);
      });
      r.pos = to;
      if (tag === MSG_SYNC) message = { type: "sync", memberId, seq, hints: decoded };
      else {
        const event = decoded.at(-1);
        if (event === undefined) throw new RangeError("presence event without a change");
        message = { type: "event", seq, event };
      }
    } else r.skip(tag & 7, end);
  }
  if (message === undefined) throw new RangeError("presence message without a body");
  return message;
}

function readChange(r: ProtoReader, end: number, memberId: string): BusPresence {
  let kind: BusPresence["kind"] | undefined;
  let nodeId = "";
  let reason = "";
  let time = 0;
  let labels: Readonly<Record<string, string>> | undefined;
  let previousLabels: Readonly<Record<string, string>> | undefined;
  let changed = false;
  while (r.pos < end) {
    if (r.buf[r.pos] === ((CH_LABELS_FIELD << 3) | 2)) {
      labels = r.labels(CH_LABELS_FIELD, end);
      continue;
    }
    if (r.buf[r.pos] === ((CH_PREVIOUS_FIELD << 3) | 2)) {
      previousLabels = r.labels(CH_PREVIOUS_FIELD, end);
      continue;
    }
    const t = r.tag(end);
    if (t === CH_KIND) {
      const k = r.length(end);
      kind = KIND_NAMES[k];
      if (kind === undefined) throw new RangeError(`unknown presence kind ${k}`);
    } else if (t === CH_NODE) nodeId = r.string(end);
    else if (t === CH_REASON) reason = r.string(end);
    else if (t === CH_TIME) time = r.varint53(end);
    else if (t === CH_CHANGED) changed = r.length(end) !== 0;
    else r.skip(t & 7, end);
  }
  if (kind === undefined) throw new RangeError("presence change without a kind");
  const e: BusPresence = { kind, nodeId, labels: labels ?? internLabels({}), reason, time, memberId };
  if (changed) e.previousLabels = previousLabels ?? internLabels({});
  return e;
}

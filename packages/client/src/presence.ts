import { type PresenceEvent, PresenceKind } from "@hb/codec";

/**
 * What happened to a node (PROTOCOL.md §7.1): it registered, left, missed
 * its heartbeat interval, timed out (offline), was heard again, or its
 * labels changed while it stayed online (`"updated"`, §7.5). A kind from a
 * newer server is reported as `"unknown"`.
 */
export type PresenceChange = "joined" | "left" | "suspect" | "timed_out" | "recovered" | "updated" | "unknown";

/** One presence event, from {@link HeartbeatClient.watchPresence}. */
export interface PresenceNotice {
  /** What happened. */
  readonly kind: PresenceChange;
  /** The node it happened to. */
  readonly nodeId: string;
  /** The node's labels. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Machine-readable reason (PROTOCOL.md §7.1), e.g. `"hello"`,
   * `"goodbye"`, `"connection_closed"`, `"heartbeat_timeout"`,
   * `"replaced"`, `"labels_changed"`, `"mass_silence"`, `"flapping"`; may be
   * one a newer server added.
   */
  readonly reason: string;
  /** When the server observed it, ms since the Unix epoch. */
  readonly time: number;
  /** The server that observed it. */
  readonly serverId: string;
}

const KINDS: Readonly<Record<number, PresenceChange>> = {
  [PresenceKind.JOINED]: "joined",
  [PresenceKind.LEFT]: "left",
  [PresenceKind.SUSPECT]: "suspect",
  [PresenceKind.TIMED_OUT]: "timed_out",
  [PresenceKind.RECOVERED]: "recovered",
  [PresenceKind.UPDATED]: "updated",
};

/** Converts a PresenceEvent frame body to a {@link PresenceNotice}. */
export function presenceNotice(e: PresenceEvent): PresenceNotice {
  return {
    kind: KINDS[e.kind] ?? "unknown",
    nodeId: e.nodeId,
    labels: Object.freeze({ ...e.labels }),
    reason: e.reason,
    time: Number(e.timeMs),
    serverId: e.serverId,
  };
}

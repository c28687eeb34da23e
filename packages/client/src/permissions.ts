import { Access, type Permissions } from "@hb/codec";

/**
 * Whether one kind of operation is allowed (PROTOCOL.md §5.9):
 * `"allowed"` (never refused with `FORBIDDEN`), `"denied"` (always
 * refused), `"restricted"` (for some targets only: see the lists where
 * given, else decided per message) or `"unspecified"` (not said: try).
 */
export type AccessLevel = "unspecified" | "allowed" | "denied" | "restricted";

/**
 * What the server says this connection may do (`Welcome.permissions`, or
 * `Renewed.permissions` after a credential renewal). Informative: the
 * server still checks every frame and refuses with `FORBIDDEN`.
 */
export interface PermissionsInfo {
  /** Publish (requests to subjects included). */
  readonly publish: AccessLevel;
  /** With `publish: "restricted"`: subject patterns allowed (empty: any). */
  readonly publishAllow: readonly string[];
  /** With `publish: "restricted"`: subject patterns refused. */
  readonly publishDeny: readonly string[];
  /** Subscribe (not presence). */
  readonly subscribe: AccessLevel;
  /** With `subscribe: "restricted"`: patterns a subscription must be covered by (empty: any). */
  readonly subscribeAllow: readonly string[];
  /** With `subscribe: "restricted"`: patterns refused (and never delivered). */
  readonly subscribeDeny: readonly string[];
  /** Send to a node (requests to a node included). */
  readonly send: AccessLevel;
  /** Broadcast. */
  readonly broadcast: AccessLevel;
  /** Attach nodes (gateway mode). */
  readonly attach: AccessLevel;
  /** Watch presence. */
  readonly presence: AccessLevel;
  /** With `presence: "restricted"`: entries every presence label filter must contain. */
  readonly presenceFilter: Readonly<Record<string, string>>;
}

const LEVELS: Readonly<Record<number, AccessLevel>> = {
  [Access.ALLOWED]: "allowed",
  [Access.DENIED]: "denied",
  [Access.RESTRICTED]: "restricted",
};

const level = (a: Access): AccessLevel => LEVELS[a] ?? "unspecified";

/** Converts the wire form; `undefined` when the server said nothing. */
export function permissionsInfo(p: Permissions | undefined): PermissionsInfo | undefined {
  if (p === undefined) return undefined;
  return Object.freeze({
    publish: level(p.publish),
    publishAllow: Object.freeze([...p.publishAllow]),
    publishDeny: Object.freeze([...p.publishDeny]),
    subscribe: level(p.subscribe),
    subscribeAllow: Object.freeze([...p.subscribeAllow]),
    subscribeDeny: Object.freeze([...p.subscribeDeny]),
    send: level(p.send),
    broadcast: level(p.broadcast),
    attach: level(p.attach),
    presence: level(p.presence),
    presenceFilter: Object.freeze({ ...p.presenceFilter }),
  });
}

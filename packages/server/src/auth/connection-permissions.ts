import { create } from "@bufbuild/protobuf";
import { Access, type Permissions, PermissionsSchema } from "@hb/codec";
import type { IdRule } from "./id-rule.js";
import type { SubjectRule } from "./subject-rule.js";

/** The kinds of permission, as counted in `stats().forbidden`. */
export type PermissionKind = "publish" | "subscribe" | "send" | "broadcast" | "attach" | "presence";

/** Which `authorize*` hooks are set: the kinds they decide are `UNSPECIFIED` in Welcome. */
export interface HookPresence {
  /** `authorizePublish`. */
  readonly publish: boolean;
  /** `authorizeSubscribe` (presence subscriptions too). */
  readonly subscribe: boolean;
  /** `authorizeSend`. */
  readonly send: boolean;
  /** `authorizeBroadcast`. */
  readonly broadcast: boolean;
}

/**
 * One connection's compiled permissions (from the `permissions` rules or
 * its credential): each kind `true` (allowed), `false` (denied) or a rule.
 * A kind the grant left out is allowed, except `broadcast`, which is then
 * `undefined`: the server's default (the `authorizeBroadcast` hook, else
 * refused). The session holds one; the router and the gateway ask it.
 */
export class ConnectionPermissions {
  /** Publish. */
  readonly publish: boolean | SubjectRule;
  /** Subscribe (not `$hb.presence`). */
  readonly subscribe: boolean | SubjectRule;
  /** Send, by target node id. */
  readonly send: boolean | IdRule;
  /** Broadcast; `undefined`: the server's default. */
  readonly broadcast: boolean | undefined;
  /** Attach, by attached node id. */
  readonly attach: boolean | IdRule;
  /** `$hb.presence`: a filter is the label entries its `label_filter` must hold. */
  readonly presence: boolean | Readonly<Record<string, string>>;

  constructor(kinds: {
    publish: boolean | SubjectRule;
    subscribe: boolean | SubjectRule;
    send: boolean | IdRule;
    broadcast: boolean | undefined;
    attach: boolean | IdRule;
    presence: boolean | Readonly<Record<string, string>>;
  }) {
    this.publish = kinds.publish;
    this.subscribe = kinds.subscribe;
    this.send = kinds.send;
    this.broadcast = kinds.broadcast;
    this.attach = kinds.attach;
    this.presence = kinds.presence;
  }

  /** Whether the concrete `subject` may be published to. */
  mayPublish(subject: string): boolean {
    const p = this.publish;
    return typeof p === "boolean" ? p : p.allows(subject);
  }

  /** Whether `nodeId` may be sent to. */
  maySend(nodeId: string): boolean {
    const s = this.send;
    return typeof s === "boolean" ? s : s.allows(nodeId);
  }

  /** Whether `nodeId` may be attached. */
  mayAttach(nodeId: string): boolean {
    const a = this.attach;
    return typeof a === "boolean" ? a : a.allows(nodeId);
  }

  /** Whether a presence subscription with `labelFilter` may be made. */
  mayWatch(labelFilter: Readonly<Record<string, string>>): boolean {
    const p = this.presence;
    if (typeof p === "boolean") return p;
    for (const key in p) if (labelFilter[key] !== p[key]) return false;
    return true;
  }

  /**
   * `Welcome.permissions` / `Renewed.permissions` (PROTOCOL.md §4.28): what
   * the rules say, `UNSPECIFIED` where a hook decides too (unless denied).
   */
  toWire(hooks: HookPresence): Permissions {
    const p = create(PermissionsSchema, {});
    const pub = subjectAccess(this.publish, hooks.publish);
    p.publish = pub.access;
    p.publishAllow = pub.allow;
    p.publishDeny = pub.deny;
    const sub = subjectAccess(this.subscribe, hooks.subscribe);
    p.subscribe = sub.access;
    p.subscribeAllow = sub.allow;
    p.subscribeDeny = sub.deny;
    p.send = idAccess(this.send, hooks.send);
    p.attach = idAccess(this.attach, false);
    const b = this.broadcast;
    p.broadcast = b === false ? Access.DENIED : hooks.broadcast ? Access.UNSPECIFIED : b === true ? Access.ALLOWED : Access.DENIED;
    const presence = this.presence;
    if (presence === false) p.presence = Access.DENIED;
    else if (hooks.subscribe) p.presence = Access.UNSPECIFIED;
    else if (presence === true) p.presence = Access.ALLOWED;
    else {
      p.presence = Access.RESTRICTED;
      p.presenceFilter = { ...presence };
    }
    return p;
  }
}

/** Everything denied: a node that no `permissions` rule matches. */
export const DENY_ALL = new ConnectionPermissions({
  publish: false,
  subscribe: false,
  send: false,
  broadcast: false,
  attach: false,
  presence: false,
});

/** The server's defaults as permissions (no rules): everything allowed, broadcast as `authorizeBroadcast` says. */
export const DEFAULT_PERMISSIONS = new ConnectionPermissions({
  publish: true,
  subscribe: true,
  send: true,
  broadcast: undefined,
  attach: true,
  presence: true,
});

function subjectAccess(kind: boolean | SubjectRule, hook: boolean): { access: Access; allow: string[]; deny: string[] } {
  if (kind === false) return { access: Access.DENIED, allow: [], deny: [] };
  if (hook) return { access: Access.UNSPECIFIED, allow: [], deny: [] };
  if (kind === true) return { access: Access.ALLOWED, allow: [], deny: [] };
  // An empty allow list on the wire means "any": a rule allowing nothing is DENIED.
  if (kind.allow !== undefined && kind.allow.length === 0) return { access: Access.DENIED, allow: [], deny: [] };
  return { access: Access.RESTRICTED, allow: [...(kind.allow ?? [])], deny: [...kind.deny] };
}

function idAccess(kind: boolean | IdRule, hook: boolean): Access {
  if (kind === false) return Access.DENIED;
  if (hook) return Access.UNSPECIFIED;
  if (kind === true) return Access.ALLOWED;
  if (kind.allow !== undefined && kind.allow.length === 0) return Access.DENIED;
  return Access.RESTRICTED;
}

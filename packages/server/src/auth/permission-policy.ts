import { subjectProblem } from "@hb/codec";
import type { AllowDeny, PermissionGrant, PermissionRule } from "../options/auth-options.js";
import { ConnectionPermissions, DENY_ALL } from "./connection-permissions.js";
import { IdGlob } from "./id-glob.js";
import { IdRule } from "./id-rule.js";
import { SubjectRule } from "./subject-rule.js";

const TEMPLATE = /\{(nodeId|labels\.[^}]+)\}/g;

/** The node a grant is compiled for (its templates are filled with these). */
export interface PermissionSubject {
  /** The node id. */
  readonly nodeId: string;
  /** The node's labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Turns the `permissions` rules (and credentials' grants) into each
 * connection's {@link ConnectionPermissions}: the first rule whose `match`
 * holds for the node applies; none: everything denied (once rules are
 * configured, a node they do not name may do nothing). A grant of the
 * credential (token entry, JWT claim, hook) replaces the rules. Grants
 * without templates are compiled once and shared by every connection they
 * apply to (so is their subject cache).
 */
export class PermissionPolicy {
  readonly #rules: readonly { rule: PermissionRule; nodeId: IdGlob | undefined; shared: ConnectionPermissions | undefined }[];

  /** @param rules - the `permissions` option; `undefined`: no rules (the server's defaults) */
  constructor(rules: readonly PermissionRule[] | undefined) {
    this.#rules = (rules ?? []).map((rule) => ({
      rule,
      nodeId: rule.match?.nodeId === undefined ? undefined : new IdGlob(rule.match.nodeId),
      shared: hasTemplates(rule) ? undefined : compileGrant(rule, { nodeId: "", labels: {} }),
    }));
  }

  /** Whether any rule is configured. */
  get configured(): boolean {
    return this.#rules.length > 0;
  }

  /**
   * The permissions of a node: from `grant` (its credential's) when given,
   * else from the first matching rule; `undefined` when neither applies
   * and no rules are configured (the server's defaults, checked by nothing).
   */
  forNode(node: PermissionSubject, grant: PermissionGrant | undefined): ConnectionPermissions | undefined {
    if (grant !== undefined) return compileGrant(grant, node);
    if (this.#rules.length === 0) return undefined;
    for (const r of this.#rules) {
      const m = r.rule.match;
      if (r.nodeId !== undefined && !r.nodeId.test(node.nodeId)) continue;
      if (m?.labels !== undefined && !Object.entries(m.labels).every(([k, v]) => node.labels[k] === v)) continue;
      return r.shared ?? compileGrant(r.rule, node);
    }
    return DENY_ALL;
  }
}

/** Compiles one grant for `node` (templates filled; entries naming a missing label, or invalid once filled, match nothing). */
export function compileGrant(grant: PermissionGrant, node: PermissionSubject): ConnectionPermissions {
  const presence = grant.presence;
  return new ConnectionPermissions({
    publish: subjects(grant.publish, node),
    subscribe: subjects(grant.subscribe, node),
    send: ids(grant.send, node),
    broadcast: grant.broadcast,
    attach: ids(grant.attach, node),
    presence: presence === undefined || typeof presence === "boolean" ? (presence ?? true) : presenceFilter(presence.filter, node),
  });
}

function subjects(kind: boolean | AllowDeny | undefined, node: PermissionSubject): boolean | SubjectRule {
  if (kind === undefined) return true;
  if (typeof kind === "boolean") return kind;
  const valid = (s: string): boolean => subjectProblem(s, true) === undefined;
  const allow = kind.allow === undefined ? undefined : fill(kind.allow, node).filter(valid);
  return new SubjectRule(allow, fill(kind.deny ?? [], node).filter(valid));
}

function ids(kind: boolean | AllowDeny | undefined, node: PermissionSubject): boolean | IdRule {
  if (kind === undefined) return true;
  if (typeof kind === "boolean") return kind;
  return new IdRule(kind.allow === undefined ? undefined : fill(kind.allow, node), fill(kind.deny ?? [], node));
}

// Fills {nodeId} and {labels.<key>}; an entry naming a label the node lacks is dropped.
function fill(entries: readonly string[], node: PermissionSubject): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    let missing = false;
    const filled = entry.replace(TEMPLATE, (_m, name: string) => {
      if (name === "nodeId") return node.nodeId;
      const value = node.labels[name.slice("labels.".length)];
      if (value === undefined) missing = true;
      return value ?? "";
    });
    if (!missing) out.push(filled);
  }
  return out;
}

// The filter with its values filled; a value naming a label the node lacks: presence denied.
function presenceFilter(filter: Readonly<Record<string, string>>, node: PermissionSubject): false | Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(filter)) {
    const [filled] = fill([value], node);
    if (filled === undefined) return false;
    out[key] = filled;
  }
  return Object.freeze(out);
}

function hasTemplates(grant: PermissionGrant): boolean {
  const lists = [grant.publish, grant.subscribe, grant.send, grant.attach];
  const entries = lists.flatMap((k) => (typeof k === "object" ? [...(k.allow ?? []), ...(k.deny ?? [])] : []));
  if (typeof grant.presence === "object") entries.push(...Object.values(grant.presence.filter));
  return entries.some((e) => /\{(nodeId|labels\.[^}]+)\}/.test(e));
}

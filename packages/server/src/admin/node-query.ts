import type { NodeFilter, NodeState } from "../registry/node-info.js";

/** A parsed `/v1/nodes` (or `/v1/events`) query. */
export interface NodeQuery {
  /** The filter for `count()` / `list()`. */
  filter: NodeFilter;
  /** Most nodes to return. */
  limit: number;
}

/** Default and largest `limit` of `/v1/nodes`. */
export const NODE_LIMITS = Object.freeze({
  /** Nodes returned without `limit`. */
  default: 100,
  /** Largest `limit`. */
  max: 10_000,
});

/** A bad query parameter: answered with 400 and this message. */
export class QueryError extends Error {
  override readonly name = "QueryError";
}

/**
 * Parses `label=k=v` (repeatable: every entry must match), `state=online|suspect`
 * and `limit=N` (1 .. {@link NODE_LIMITS}.max, default 100).
 *
 * @throws QueryError naming the parameter when one is malformed or unknown
 */
export function parseNodeQuery(params: URLSearchParams, allowed: readonly string[] = ["label", "state", "limit", "token"]): NodeQuery {
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw new QueryError(`unknown query parameter "${key}" (one of ${allowed.filter((k) => k !== "token").join(", ")})`);
  }
  const labels: Record<string, string> = {};
  for (const entry of params.getAll("label")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new QueryError(`label must be key=value, got "${entry}"`);
    labels[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const filter: NodeFilter = {};
  if (Object.keys(labels).length > 0) filter.labels = labels;
  const state = params.get("state");
  if (state !== null) {
    if (state !== "online" && state !== "suspect") throw new QueryError(`state must be online or suspect, got "${state}"`);
    filter.state = state as NodeState;
  }
  let limit: number = NODE_LIMITS.default;
  const raw = params.get("limit");
  if (raw !== null) {
    limit = Number(raw);
    if (!/^\d+$/.test(raw) || limit < 1 || limit > NODE_LIMITS.max) {
      throw new QueryError(`limit must be an integer in 1..${NODE_LIMITS.max}, got "${raw}"`);
    }
  }
  return { filter, limit };
}

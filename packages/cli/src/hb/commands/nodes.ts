import type { AdminClient } from "../admin-client.js";
import { ago, labels, table } from "../format.js";

interface NodeJson {
  nodeId: string;
  state: string;
  labels: Record<string, string>;
  lastHeardAt: number;
  remoteAddress: string;
  gatewayNodeId?: string;
  serverId?: string;
  heartbeatInterval: number;
}

/** `hb nodes`: the nodes matching the filters, as a table (or JSON). */
export async function nodesCommand(
  admin: AdminClient,
  opts: { label?: string[]; state?: string; limit?: string; json?: boolean },
  out: (text: string) => void,
): Promise<void> {
  const params: [string, string][] = (opts.label ?? []).map((l) => ["label", l]);
  if (opts.state !== undefined) params.push(["state", opts.state]);
  if (opts.limit !== undefined) params.push(["limit", opts.limit]);
  const body = (await admin.get<{ count: number; nodes: NodeJson[] }>("/v1/nodes", params)) as { count: number; nodes: NodeJson[] };
  if (opts.json) return out(JSON.stringify(body, null, 2));
  const now = Date.now();
  const rows = body.nodes.map((n) => [
    n.nodeId,
    n.state,
    labels(n.labels),
    ago(n.lastHeardAt, now),
    n.gatewayNodeId === undefined ? n.remoteAddress || "-" : `via ${n.gatewayNodeId}`,
    n.serverId ?? "",
  ]);
  out(table(["NODE", "STATE", "LABELS", "LAST HEARD", "ADDRESS", "SERVER"], rows));
  out(`${body.nodes.length} of ${body.count} node${body.count === 1 ? "" : "s"}${body.count > body.nodes.length ? " (--limit shows more)" : ""}`);
}

/** `hb node ID`: one node's details; exits 1 when it is not registered. */
export async function nodeCommand(admin: AdminClient, id: string, opts: { json?: boolean }, out: (text: string) => void): Promise<boolean> {
  const node = await admin.get<NodeJson & Record<string, unknown>>(`/v1/nodes/${encodeURIComponent(id)}`, [], true);
  if (node === undefined) {
    out(`node ${id} is not registered (offline or unknown)`);
    return false;
  }
  if (opts.json) {
    out(JSON.stringify(node, null, 2));
    return true;
  }
  const rows: [string, string][] = [
    ["node", node.nodeId],
    ["state", node.state],
    ["labels", labels(node.labels)],
    ["last heard", `${new Date(node.lastHeardAt).toISOString()} (${ago(node.lastHeardAt)})`],
    ["joined", new Date(node.joinedAt as number).toISOString()],
    ["heartbeats", String(node.heartbeats)],
    ["interval", `${node.heartbeatInterval} ms`],
    ["address", (node.remoteAddress as string) || "-"],
    ["connected", String(node.connected)],
    ["session", (node.sessionId as string) || "-"],
  ];
  if (node.gatewayNodeId !== undefined) rows.push(["gateway", `${node.gatewayNodeId} (handle ${node.handle})`]);
  if (node.serverId !== undefined) rows.push(["server", node.serverId]);
  out(rows.map(([k, v]) => `${k.padEnd(11)} ${v}`).join("\n"));
  return true;
}

import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { HbMetrics, type HbServerSnapshot } from "@hb/metrics";
import type { HeartbeatServer } from "../heartbeat-server.js";
import type { NodeInfo } from "../registry/node-info.js";
import type { NodeEvent } from "../core/ports/node-events.js";
import type { ServerStats } from "../core/ports/server-stats.js";
import { ProcessSampler, type ProcessSample } from "../telemetry/process-sampler.js";
import type { RttSnapshot } from "../telemetry/rtt-histogram.js";
import { type AdminOptions, type ResolvedAdminOptions, resolveAdminOptions } from "./admin-options.js";
import { EventStreams, type PresenceMessage } from "./event-stream.js";
import { LabelTally } from "./label-tally.js";
import { latencyQuantile } from "./latency-quantile.js";
import { metricsSnapshot } from "./metrics-snapshot.js";
import { QueryError, parseNodeQuery } from "./node-query.js";
import { packageRoot } from "./package-root.js";
import { type HistoryPoint, StatsHistory } from "./stats-history.js";

const EVENTS = [
  ["nodeJoined", "joined"],
  ["nodeLeft", "left"],
  ["nodeSuspect", "suspect"],
  ["nodeTimeout", "timeout"],
  ["nodeRecovered", "recovered"],
  ["nodeUpdated", "updated"],
] as const;

const DASHBOARD_FILES: Readonly<Record<string, [file: string, type: string]>> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/dashboard.js": ["dashboard.js", "text/javascript; charset=utf-8"],
  "/dashboard.css": ["dashboard.css", "text/css; charset=utf-8"],
  "/favicon.svg": ["favicon.svg", "image/svg+xml"],
};

// Nothing of the dashboard may come from elsewhere (no CDN): the browser is told so too.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Why `/readyz` answers 503, or `undefined` when ready. */
type NotReady = string | undefined;

/**
 * The admin HTTP endpoint of a {@link HeartbeatServer}, on a port of its
 * own (loopback by default), opt-in: construct it, `listen()`, `close()`.
 * `hb-server` turns it on.
 *
 * | path | what |
 * |---|---|
 * | `/metrics` | Prometheus text (@hb/metrics' `HbMetrics` fed by `server.stats()` at each scrape, with prom-client's process metrics) |
 * | `/healthz` | 200 while the process runs (no token needed) |
 * | `/readyz` | 200 once the server listens and, with a bus, the bus is synced; 503 with the reason otherwise, and while draining (no token needed) |
 * | `/v1/stats` | JSON: node counts, rates, the full `stats()`, this process, workers, bus |
 * | `/v1/nodes?label=k=v&state=…&limit=N` | JSON: `{ count, nodes }`; `count` from `server.count()` (never a scan), at most `limit` nodes (default 100) |
 * | `/v1/nodes/:id` | JSON: one node, or 404 |
 * | `/v1/labels` | JSON: nodes by label key and value, online and suspect |
 * | `/v1/history` | JSON: the last 5 minutes, one point per second |
 * | `/v1/events?label=k=v` | presence changes as Server-Sent Events (JSON `data`) |
 * | `/` | the live dashboard (static files shipped with @hb/server; nothing from the internet) |
 *
 * With a `token`, everything but `/healthz`, `/readyz` and the dashboard's
 * static files needs it (open the dashboard as `/?token=…`). The
 * admin endpoint observes the server through its public API and node
 * events: it never shows up in presence.
 *
 * The label view is kept from the node events; when the admin endpoint
 * starts after nodes registered, it lists them once (`server.list()`).
 */
export class AdminServer {
  /** The options in force. */
  readonly options: ResolvedAdminOptions;
  /** The metrics served at `/metrics` (their registry may take more). */
  readonly metrics: HbMetrics;
  readonly #server: HeartbeatServer;
  readonly #http: Server;
  readonly #streams = new EventStreams();
  readonly #labels = new LabelTally();
  readonly #history = new StatsHistory(300);
  readonly #recent: PresenceMessage[] = [];
  readonly #sampler = new ProcessSampler();
  readonly #version: string;
  readonly #tokenHash: Buffer | undefined;
  readonly #listeners: [string, (e: NodeEvent) => void][] = [];
  readonly #startedAt = Date.now();
  #tick: NodeJS.Timeout | undefined;
  #main: ProcessSample | undefined;
  #prev: { at: number; stats: ServerStats } | undefined;
  #draining = false;
  #closed = false;

  /**
   * @param server - the server to observe (listening or not yet)
   * @param options - see {@link AdminOptions}
   * @throws TypeError / RangeError for invalid options
   */
  constructor(server: HeartbeatServer, options: AdminOptions = {}) {
    this.options = resolveAdminOptions(options);
    this.#server = server;
    this.#version = this.options.version ?? packageRoot().version;
    this.#tokenHash = this.options.token === undefined ? undefined : sha256(this.options.token);
    this.metrics = new HbMetrics({ source: () => this.#metricsSnapshot(), processMetrics: true });
    this.#labels.seed(server.list({}));
    for (const [event, kind] of EVENTS) {
      const listener = (e: NodeEvent): void => this.#presence(kind, e);
      server.on(event, listener);
      this.#listeners.push([event, listener]);
    }
    this.#http = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(res, 500, { error: String(err) });
        else res.destroy();
      });
    });
    // Headers and idle keep-alive: a slow or idle HTTP client cannot hold sockets for long.
    this.#http.headersTimeout = 10_000;
    this.#http.requestTimeout = 0; // event streams stay open
    this.#http.keepAliveTimeout = 5_000;
    this.#http.maxConnections = this.options.maxEventStreams + 64;
  }

  /**
   * Starts listening on `host`:`port` and sampling the server every second.
   *
   * @returns the bound address
   * @throws the listen error (e.g. `EADDRINUSE`)
   */
  async listen(): Promise<AddressInfo> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.#http.once("error", reject);
      this.#http.listen({ host, port }, () => {
        this.#http.off("error", reject);
        resolve();
      });
    });
    this.#sample();
    this.#tick = setInterval(() => this.#sample(), 1_000);
    this.#tick.unref();
    return this.#http.address() as AddressInfo;
  }

  /** The bound address, or `undefined` before {@link AdminServer.listen}. */
  address(): AddressInfo | undefined {
    const a = this.#http.address();
    return a !== null && typeof a === "object" ? a : undefined;
  }

  /**
   * From now on `/readyz` answers 503 `draining`: call it before
   * `server.close()` so that load balancers stop sending new nodes here.
   */
  markDraining(): void {
    this.#draining = true;
  }

  /** Stops listening, ends the event streams and stops observing the server. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#sampler.stop();
    for (const [event, listener] of this.#listeners) this.#server.off(event as "nodeJoined", listener);
    this.#streams.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://admin.invalid");
    const path = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return this.#json(res, 405, { error: `${req.method} is not allowed` });
    }
    if (path === "/healthz") return this.#json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const why = this.#notReady();
      return this.#json(res, why === undefined ? 200 : 503, why === undefined ? { status: "ready" } : { status: "not ready", reason: why });
    }
    // The dashboard's files hold no data (it reads the API, which needs the token): served to anyone.
    const file = this.options.dashboard ? DASHBOARD_FILES[path] : undefined;
    if (file !== undefined) {
      const body = await readFile(join(packageRoot().dir, "dashboard", file[0]));
      res.writeHead(200, { "content-type": file[1], "cache-control": "no-cache", ...SECURITY_HEADERS });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (!this.#authorized(req, url)) {
      res.setHeader("www-authenticate", 'Bearer realm="hb admin"');
      return this.#json(res, 401, { error: "a valid admin token is required (Authorization: Bearer <token>)" });
    }
    try {
      if (path === "/metrics") {
        const text = await this.metrics.text();
        res.writeHead(200, { "content-type": this.metrics.contentType, "cache-control": "no-store" });
        res.end(text);
        return;
      }
      if (path === "/v1/stats") return this.#json(res, 200, this.#statsBody());
      if (path === "/v1/nodes") {
        const { filter, limit } = parseNodeQuery(url.searchParams);
        const count = this.#server.count(filter);
        const nodes = this.#server.list(filter, limit).map(nodeJson);
        return this.#json(res, 200, { count, limit, truncated: count > nodes.length, nodes });
      }
      if (path.startsWith("/v1/nodes/")) {
        parseNodeQuery(url.searchParams, ["token"]);
        const id = decodeURIComponent(path.slice("/v1/nodes/".length));
        const node = this.#server.get(id);
        return node === undefined ? this.#json(res, 404, { error: `node "${id}" is not registered` }) : this.#json(res, 200, nodeJson(node));
      }
      if (path === "/v1/labels") return this.#json(res, 200, { labels: this.#labels.view() });
      if (path === "/v1/history") return this.#json(res, 200, { points: this.#history.points(), events: this.#recent });
      if (path === "/v1/events") {
        const { filter } = parseNodeQuery(url.searchParams, ["label", "token"]);
        if (this.#streams.size >= this.options.maxEventStreams) {
          return this.#json(res, 503, { error: `too many event streams (maxEventStreams ${this.options.maxEventStreams})` });
        }
        this.#streams.open(res, filter);
        return;
      }
    } catch (err) {
      if (err instanceof QueryError || err instanceof RangeError || err instanceof TypeError) {
        return this.#json(res, 400, { error: err.message });
      }
      throw err;
    }
    return this.#json(res, 404, { error: `no such endpoint: ${path}` });
  }

  #notReady(): NotReady {
    if (this.#draining || this.#closed) return "draining";
    if (this.#server.address() === undefined) return "not listening";
    const health = this.#server.health();
    if (health.state !== "ok") return `bus ${health.state}${health.detail === undefined ? "" : `: ${health.detail}`}`;
    return undefined;
  }

  #authorized(req: IncomingMessage, url: URL): boolean {
    const expected = this.#tokenHash;
    if (expected === undefined) return true;
    const header = req.headers.authorization;
    const given = header?.startsWith("Bearer ") ? header.slice(7) : url.searchParams.get("token");
    return given !== null && given !== undefined && timingSafeEqual(sha256(given), expected);
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  }

  #presence(kind: PresenceMessage["kind"], e: NodeEvent): void {
    const k = kind as "joined" | "left" | "suspect" | "timeout" | "recovered";
    this.#labels.apply(k, e);
    const message: PresenceMessage = { kind, nodeId: e.nodeId, labels: e.labels, reason: e.reason, time: e.time, serverId: e.serverId };
    this.#recent.push(message);
    if (this.#recent.length > 100) this.#recent.shift();
    this.#streams.publish(message);
  }

  // Every second: this process's sample, and a history point with rates since the previous second.
  #sample(): void {
    this.#main = this.#sampler.sample();
    const stats = this.#server.stats();
    const now = Date.now();
    const prev = this.#prev;
    const dt = prev === undefined ? 1 : Math.max(0.001, (now - prev.at) / 1_000);
    const rate = (a: number, b: number | undefined): number => (b === undefined ? 0 : Math.max(0, (a - b) / dt));
    const routed = (s: ServerStats): number => Object.values(s.routed).reduce((x, y) => x + y, 0);
    const rtt: RttSnapshot | undefined = prev?.stats.rtt;
    const lags = [this.#main.loopDelay.p99, ...(stats.workers ?? []).map((w) => w.process?.loopDelay.p99 ?? 0)];
    const point: HistoryPoint = {
      t: now,
      online: this.#server.count({ state: "online" }),
      suspect: this.#server.count({ state: "suspect" }),
      connections: stats.connections,
      heartbeatsPerSecond: rate(stats.heartbeats, prev?.stats.heartbeats),
      messagesPerSecond: rate(routed(stats), prev === undefined ? undefined : routed(prev.stats)),
      latencyP50: prev === undefined ? null : (latencyQuantile(rtt, stats.rtt, 0.5) ?? null),
      latencyP99: prev === undefined ? null : (latencyQuantile(rtt, stats.rtt, 0.99) ?? null),
      loopLagP99: Math.max(...lags),
    };
    this.#history.push(point);
    this.#prev = { at: now, stats };
  }

  #metricsSnapshot(): HbServerSnapshot {
    const server = this.#server;
    const stats = server.stats();
    return metricsSnapshot(stats, {
      serverId: server.options.serverId,
      version: this.#version,
      main: this.#main,
      workersConfigured: stats.workers === undefined ? 1 : server.options.workerCount,
      now: Date.now(),
    });
  }

  #statsBody(): object {
    const server = this.#server;
    const stats = server.stats();
    const address = server.address();
    return {
      serverId: server.options.serverId,
      version: this.#version,
      uptime: (Date.now() - this.#startedAt) / 1_000,
      ready: this.#notReady() === undefined,
      listening: address === undefined ? null : { address: address.address, port: address.port },
      workerCount: stats.workers === undefined ? 1 : server.options.workerCount,
      // Bus-wide (with a bus, the other servers' nodes too); `stats` below is this server's.
      fleet: { nodes: server.count(), online: server.count({ state: "online" }), suspect: server.count({ state: "suspect" }) },
      rates: this.#history.last ?? null,
      process: this.#main ?? null,
      stats,
      admin: { eventStreams: this.#streams.size, eventStreamsClosedSlow: this.#streams.slowClosed },
    };
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function nodeJson(n: NodeInfo): object {
  return { ...n, labels: { ...n.labels } };
}

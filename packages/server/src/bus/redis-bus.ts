import { Command, Redis, type RedisOptions } from "ioredis";
import { callHandler, emitPresence } from "./handler-calls.js";
import { BusDirectory } from "./bus-directory.js";
import type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "../core/ports/bus-link.js";
import { decodeDirectoryEntry, encodeDirectoryEntry } from "./directory-entry-codec.js";
import { decodeEnvelope, encodeEnvelope, isEnvelopeFrom } from "./envelope-codec.js";
import { PendingPresence } from "./pending-presence.js";
import { decodePresenceMessage, encodePresenceMessage, type PresenceMessage } from "./presence-codec.js";
import { type RedisBusOptions, type ResolvedRedisBusOptions, resolveRedisBusOptions } from "./redis-bus-options.js";
import { type RedisKeys, SYNC_FIELD, redisKeys } from "./redis-keys.js";
import { REDIS_SCRIPTS } from "./redis-scripts.js";

const SYNC_FIELD_BYTES = Buffer.from(SYNC_FIELD, "utf8");

type EventMessage = Extract<PresenceMessage, { type: "event" }>;

// What this member knows about the replication of one remote member.
interface MemberState {
  // Sequence number of its last change applied; -1 before a snapshot.
  lastSeq: number;
  // Generation of the snapshot load in flight; 0: none.
  generation: number;
  // Its events received while a load is in flight, in order.
  buffer: EventMessage[];
  // Hints of its last sync, for the load that sync started.
  hints: ReadonlyMap<string, BusPresence> | undefined;
  // When it was first seen without a lease (performance.now()), if so.
  absentSince: number | undefined;
  // Loads in a row started by a sequence gap (bounded: a message from the
  // future that no snapshot explains is dropped, not chased forever).
  gapLoads: number;
}

// Loads in a row a sequence gap may start before the message is dropped.
const MAX_GAP_LOADS = 2;

interface Lease {
  // Redis time, ms.
  now: number;
  // Whether this member had no lease before.
  added: boolean;
  // Member id → lease expiry (Redis time, ms).
  entries: Map<string, number>;
}

const noop = (): void => {};

/**
 * A {@link BusLink} through Redis (ioredis): several hb servers on different
 * hosts form one bus.
 *
 * - **Members** hold a lease in the ZSET `{prefix}:members` (member → expiry,
 *   Redis time), renewed every `leaseRefresh` by a script that also returns
 *   all leases. A lease past its expiry, or a known member without one for
 *   longer than `leaseTtl`, is reaped by a script (atomic: no lock; a lease
 *   renewed meanwhile is left alone) that deletes the member's directory
 *   hash and publishes `lost`; every member then calls `memberLost` once.
 * - **Directory**: each member's nodes are a HASH `{prefix}:nodes:{member}`
 *   (node id → state + labels) plus a sequence number. Heartbeats never
 *   reach Redis: only presence changes are written, one script call each
 *   (hash write + sequence + PUBLISH on `{prefix}:presence`). Every member
 *   keeps an in-memory replica (`BusDirectory`); a gap in a member's
 *   sequence, a `sync` message or an unknown member makes it reload that
 *   member's hash (HGETALL), buffering the member's events meanwhile and
 *   applying those newer than the snapshot afterwards.
 * - **Messages**: PUBLISH on `{prefix}:all` (publish, broadcast, or any
 *   envelope without `toMember`) or `{prefix}:m:{member}` (to one member),
 *   binary (`encodeEnvelope`), received as `messageBuffer` on a second
 *   connection. At most once, like Redis pub/sub.
 * - **Redis unreachable**: health `degraded`, `send` drops and counts,
 *   `announce` keeps the last change per node. When both connections are
 *   back the member renews its lease, rewrites its whole hash from
 *   `handlers.localNodes()` in one MULTI with a `sync` message carrying the
 *   kept changes as hints, and reloads every member with a lease, reporting
 *   differences (see `BusDirectory.replace`). Members known before
 *   but without a lease (Redis restarted empty) are waited for `leaseTtl`,
 *   then lost. So after Redis returns, even empty, the hashes and every
 *   replica hold exactly the online nodes again.
 *
 * `stats().redisCommands` counts every command sent (a MULTI counts each
 * command in it, MULTI and EXEC included).
 */
// Why one file of ~800 lines: the Redis link is one state machine over two
// connections (phases, lease, resync, per-member replication with its
// sequence numbers and snapshot loads), and each of those steps reads and
// changes the same state (#phase, #writable, #members, #dir, #pending):
// split across files it would have to be exposed. The byte formats it uses
// are in envelope-codec.ts, presence-codec.ts and directory-entry-codec.ts,
// the Lua in redis-scripts.ts, the key names in redis-keys.ts.
export class RedisBus implements BusLink {
  /** `"redis"`. */
  readonly kind = "redis";
  /** @internal The resolved options. */
  readonly options: ResolvedRedisBusOptions;
  readonly #keys: RedisKeys;
  readonly #presenceChannel: Buffer;
  readonly #pending: PendingPresence;
  readonly #members = new Map<string, MemberState>();
  readonly #inboxes = new Map<string, string>();
  readonly #reaping = new Set<string>();
  #cmd: Redis | undefined;
  #sub: Redis | undefined;
  #memberId = "";
  #memberBytes: Buffer = Buffer.alloc(0);
  #handlers: BusHandlers | undefined;
  #dir = new BusDirectory("");
  #phase: "idle" | "starting" | "ok" | "degraded" | "closed" = "idle";
  #detail = "not started";
  #lastError = "";
  #writable = false;
  #silent = true;
  #seq = 0;
  // #seq when the hash was last rewritten whole.
  #syncedSeq = 0;
  #generation = 0;
  #syncing = false;
  #syncAgain = false;
  #writingOwn = false;
  #needResync = false;
  #leaseInFlight = false;
  #lastLease = 0;
  #timer: NodeJS.Timeout | undefined;
  #started: { resolve: () => void; reject: (err: Error) => void } | undefined;
  readonly #stats = {
    redisCommands: 0,
    leaseRefreshes: 0,
    presenceWrites: 0,
    loads: 0,
    resyncs: 0,
    relayedOut: 0,
    relayedIn: 0,
    dropped: 0,
    undelivered: 0,
    relayErrors: 0,
    presenceIn: 0,
    membersLost: 0,
    reaped: 0,
    outages: 0,
    decodeErrors: 0,
    gapsDropped: 0,
    handlerErrors: 0,
  };

  /** @throws TypeError / RangeError for invalid options (see `resolveRedisBusOptions`) */
  constructor(options: RedisBusOptions = {}) {
    this.options = resolveRedisBusOptions(options);
    this.#keys = redisKeys(this.options.prefix);
    this.#presenceChannel = Buffer.from(this.#keys.presence);
    this.#pending = new PendingPresence(this.options.maxPendingPresence);
  }

  /**
   * Connects, takes a lease, writes `handlers.localNodes()` and loads the
   * other members' nodes (silently).
   *
   * @throws Error when Redis is not reachable within `startTimeout` (the
   *   link is then closed), or when called twice
   */
  async start(memberId: string, handlers: BusHandlers): Promise<void> {
    if (this.#phase !== "idle") throw new Error("RedisBus: start() may be called once");
    if (typeof memberId !== "string" || memberId.length === 0 || memberId.length > 128) {
      throw new TypeError("memberId must be a string of 1..128 characters");
    }
    this.#memberId = memberId;
    this.#memberBytes = Buffer.from(memberId, "utf8");
    this.#handlers = handlers;
    this.#dir = new BusDirectory(memberId);
    this.#phase = "starting";
    this.#detail = "connecting to Redis";
    this.#cmd = this.#connection("cmd");
    this.#sub = this.#connection("sub");
    this.#sub.on("messageBuffer", this.#onMessage);
    const started = new Promise<void>((resolve, reject) => {
      this.#started = { resolve, reject };
    });
    const timer = setTimeout(() => {
      this.#started?.reject(
        new Error(`RedisBus: Redis not ready within startTimeout (${this.options.startTimeout} ms): ${this.#detail}`),
      );
    }, this.options.startTimeout);
    this.#cmd.connect().catch(noop);
    this.#sub.connect().catch(noop);
    try {
      await started;
    } catch (err) {
      this.kill();
      throw err;
    } finally {
      clearTimeout(timer);
      this.#started = undefined;
    }
    this.#timer = setInterval(this.#tick, this.options.leaseRefresh);
    this.#timer.unref();
  }

  send(envelope: BusEnvelope, toMember?: string): void {
    if (this.#phase !== "ok") {
      this.#stats.dropped++;
      return;
    }
    const cmd = this.#cmd as Redis;
    const payload = encodeEnvelope(envelope, this.#memberBytes);
    this.#stats.relayedOut++;
    this.#stats.redisCommands++;
    if (toMember === undefined) cmd.publish(this.#keys.all, payload).catch(this.#onRelayError);
    else cmd.publish(this.#inbox(toMember), payload).then(this.#onDirectPublished, this.#onRelayError);
  }

  announce(event: BusPresence): void {
    if (this.#phase === "idle" || this.#phase === "closed") return;
    const e = event.memberId === this.#memberId ? event : { ...event, memberId: this.#memberId };
    if (!this.#writable) {
      this.#pending.record(e);
      return;
    }
    const seq = ++this.#seq;
    const gone = e.kind === "left" || e.kind === "timed_out";
    const entry = gone ? "" : encodeDirectoryEntry(e.kind === "suspect" ? "suspect" : "online", e.labels);
    const message = encodePresenceMessage({ type: "event", seq, event: e });
    this.#stats.presenceWrites++;
    this.#stats.redisCommands++;
    (this.#cmd as Redis)
      .eval(
        REDIS_SCRIPTS.presence,
        2,
        this.#keys.members,
        this.#keys.nodes(this.#memberId),
        this.#memberId,
        e.nodeId,
        entry,
        String(seq),
        this.#keys.presence,
        message,
      )
      .then(
        (held) => {
          // No lease: we were reaped while alive (a long pause); re-announce everything.
          if (held === 0) this.#needResync = true;
        },
        () => {
          // Lost on the way. A resync built since then already covers it.
          if (seq <= this.#syncedSeq) return;
          this.#pending.restore(new Map([[e.nodeId, e]]));
          this.#needResync = true;
        },
      );
  }

  locate(nodeId: string): string | undefined {
    return this.#dir.locate(nodeId);
  }

  remoteNodes(): ReadonlyMap<string, BusNode> {
    return this.#dir.view;
  }

  health(): BusHealth {
    return this.#phase === "ok" ? { state: "ok" } : { state: "degraded", detail: this.#detail };
  }

  stats(): Record<string, number> {
    return {
      ...this.#stats,
      pending: this.#pending.size,
      pendingOverflow: this.#pending.overflow,
      remoteNodes: this.#dir.view.size,
      members: this.#members.size,
    };
  }

  /**
   * Leaves the bus: removes this member's lease and hash and publishes
   * `lost` (the others call `memberLost` at once instead of waiting for the
   * lease), then closes both connections. Waits at most 1 s for Redis.
   */
  async close(): Promise<void> {
    if (this.#phase === "closed" || this.#phase === "idle") {
      this.#phase = "closed";
      return;
    }
    const wasOk = this.#phase === "ok";
    this.#stop("closed");
    const cmd = this.#cmd as Redis;
    if (wasOk && cmd.status === "ready") {
      this.#stats.redisCommands++;
      const leave = cmd.eval(
        REDIS_SCRIPTS.reap,
        2,
        this.#keys.members,
        this.#keys.nodes(this.#memberId),
        this.#memberId,
        this.#keys.presence,
        encodePresenceMessage({ type: "lost", memberId: this.#memberId }),
        "1",
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([leave.catch(noop), new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
      clearTimeout(timer);
    }
    await Promise.allSettled([quit(cmd), quit(this.#sub as Redis)]);
  }

  /**
   * Stops at once as if the process had crashed: timers stopped, both
   * connections dropped, nothing cleaned up in Redis. The other members
   * notice when the lease runs out. For tests.
   */
  kill(): void {
    if (this.#phase === "closed") return;
    this.#stop("killed");
    this.#cmd?.disconnect();
    this.#sub?.disconnect();
  }

  #stop(detail: string): void {
    this.#phase = "closed";
    this.#detail = detail;
    this.#writable = false;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  // ------------------------------------------------------------ connections

  #connection(role: "cmd" | "sub"): Redis {
    const given = this.options.redis;
    const base: RedisOptions = typeof given === "string" ? {} : given;
    const options: RedisOptions = {
      connectionName: `hb-bus:${this.#memberId}:${role}`,
      retryStrategy: (times: number) => Math.min(times * 100, 1_000),
      // Batches the commands of one tick into one write: fewer, larger
      // writes; −25 % receiver CPU per relayed message (bench/redis-bus.bench.ts).
      enableAutoPipelining: role === "cmd",
      ...base,
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    };
    const conn = typeof given === "string" ? new Redis(given, options) : new Redis(options);
    const name = role === "cmd" ? "command" : "subscriber";
    conn.on("error", (err: Error) => {
      this.#lastError = err.message;
    });
    conn.on("close", () => this.#down(`Redis ${name} connection lost${this.#lastError ? `: ${this.#lastError}` : ""}`));
    conn.on("ready", () => {
      this.#lastError = "";
      if (this.#cmd?.status === "ready" && this.#sub?.status === "ready") void this.#sync();
    });
    return conn;
  }

  #down(detail: string): void {
    if (this.#phase === "closed") return;
    this.#detail = detail;
    this.#writable = false;
    if (this.#phase !== "ok") return;
    this.#phase = "degraded";
    this.#stats.outages++;
    this.options.logger?.warn({ memberId: this.#memberId, detail }, "redis bus degraded");
    // Loads in flight are void: the resync reloads everything.
    for (const st of this.#members.values()) {
      st.generation = 0;
      st.buffer = [];
    }
  }

  #bothReady(): boolean {
    return this.#cmd?.status === "ready" && this.#sub?.status === "ready";
  }

  // ------------------------------------------------------------ (re)sync

  // Brings the link to `ok`: one run at a time; a `ready` during a run asks for another.
  async #sync(): Promise<void> {
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncing = true;
    try {
      for (;;) {
        this.#syncAgain = false;
        let failed: unknown;
        try {
          await this.#syncOnce();
        } catch (err) {
          failed = err;
        }
        if (this.#phase === "closed") return;
        if (this.#syncAgain) continue;
        if (failed !== undefined) {
          this.#detail = `resync failed: ${(failed as Error).message ?? failed}`;
          // Both connections up (a Redis-side error): try again later; else the next `ready` does.
          if (this.#bothReady()) setTimeout(() => void this.#sync(), this.options.leaseRefresh).unref();
        }
        return;
      }
    } finally {
      this.#syncing = false;
    }
  }

  async #syncOnce(): Promise<void> {
    const sub = this.#sub as Redis;
    this.#detail = "resyncing with Redis";
    this.#stats.resyncs++;
    this.#stats.redisCommands++;
    await sub.subscribe(this.#keys.all, this.#inbox(this.#memberId), this.#keys.presence);
    const lease = await this.#lease();
    await this.#writeOwn();
    const mono = performance.now();
    const loads: Promise<void>[] = [];
    for (const [m, expiry] of lease.entries) {
      if (m === this.#memberId) continue;
      if (expiry < lease.now) this.#reap(m);
      else loads.push(this.#load(m));
    }
    // Known members without a lease (Redis restarted empty): give them leaseTtl to come back.
    for (const m of this.#known()) {
      if (!lease.entries.has(m)) this.#member(m).absentSince = mono;
    }
    await Promise.all(loads);
    if (this.#phase === "closed" || !this.#bothReady()) throw new Error(this.#detail);
    const wasStarting = this.#phase === "starting";
    this.#phase = "ok";
    this.#detail = "";
    this.#silent = false;
    this.options.logger?.info({ memberId: this.#memberId, members: lease.entries.size }, "redis bus ok");
    if (wasStarting) this.#started?.resolve();
  }

  // Renews the lease; returns all leases.
  async #lease(): Promise<Lease> {
    this.#stats.redisCommands++;
    this.#stats.leaseRefreshes++;
    const reply = (await (this.#cmd as Redis).eval(
      REDIS_SCRIPTS.lease,
      1,
      this.#keys.members,
      this.#memberId,
      String(this.options.leaseTtl),
    )) as [number, number, string[]];
    this.#lastLease = performance.now();
    const entries = new Map<string, number>();
    const list = reply[2];
    for (let i = 0; i + 1 < list.length; i += 2) entries.set(list[i] as string, Number(list[i + 1]));
    return { now: Number(reply[0]), added: Number(reply[1]) === 1, entries };
  }

  // Rewrites this member's whole hash from localNodes(), with a sync message (one MULTI).
  async #writeOwn(): Promise<void> {
    const cmd = this.#cmd as Redis;
    const key = this.#keys.nodes(this.#memberId);
    // Changes from now on wait (pending) until the MULTI is on its way.
    this.#writable = false;
    if (cmd.options.enableAutoPipelining) {
      // A MULTI bypasses ioredis's auto-pipeline queue: let what is queued
      // there (earlier changes) reach Redis first.
      this.#stats.redisCommands++;
      await cmd.ping();
    }
    const hints = this.#pending.take();
    const multi = cmd.multi();
    multi.del(key);
    let commands = 4; // MULTI, DEL, HSET seq, PUBLISH … EXEC counted below
    let args: (string | Buffer)[] = [];
    const chunk = this.options.syncChunk * 2;
    for (const node of (this.#handlers as BusHandlers).localNodes()) {
      args.push(node.nodeId, encodeDirectoryEntry(node.state, node.labels));
      if (args.length >= chunk) {
        multi.hset(key, ...args);
        commands++;
        args = [];
      }
    }
    if (args.length > 0) {
      multi.hset(key, ...args);
      commands++;
    }
    this.#syncedSeq = this.#seq;
    const sync = encodePresenceMessage({ type: "sync", memberId: this.#memberId, seq: this.#seq, hints: [...hints.values()] });
    multi.hset(key, "", String(this.#seq));
    // In the hash too: a member loading it before the published sync arrives still gets the hints.
    multi.hset(key, SYNC_FIELD, sync);
    commands++;
    multi.publish(this.#keys.presence, sync);
    this.#needResync = false;
    const done = multi.exec();
    this.#stats.redisCommands += commands + 1;
    // Changes from now on are written after this MULTI on the same connection.
    this.#writable = true;
    try {
      await done;
    } catch (err) {
      this.#writable = false;
      this.#needResync = true;
      this.#pending.restore(hints);
      throw err;
    }
  }

  // Re-announces this member while the link is otherwise fine (reaped during a pause, Redis flushed).
  #resyncOwn(): void {
    if (this.#syncing || this.#writingOwn) return;
    this.#writingOwn = true;
    // The lease first: with it, nobody reaps the hash being rewritten.
    this.#lease()
      .then(() => this.#writeOwn())
      .catch(noop)
      .finally(() => {
        this.#writingOwn = false;
      });
  }

  // ------------------------------------------------------------ lease tick

  readonly #tick = (): void => {
    if (this.#phase !== "ok") return;
    const mono = performance.now();
    if (mono - this.#lastLease > this.options.leaseTtl) {
      // Redis does not answer (a half-open connection?): our lease may be gone. Reconnect.
      this.#down(`lease not renewed for ${Math.round(mono - this.#lastLease)} ms`);
      this.#cmd?.disconnect(true);
      return;
    }
    if (this.#leaseInFlight) return;
    this.#leaseInFlight = true;
    this.#lease().then(
      (lease) => {
        this.#leaseInFlight = false;
        if (this.#phase !== "ok") return;
        if (lease.added || this.#needResync) this.#resyncOwn();
        this.#checkMembers(lease);
      },
      (err: Error) => {
        this.#leaseInFlight = false;
        this.#lastError = err.message;
      },
    );
  };

  #checkMembers(lease: Lease): void {
    const mono = performance.now();
    for (const [m, expiry] of lease.entries) {
      if (m === this.#memberId) continue;
      if (expiry < lease.now) {
        this.#reap(m);
        continue;
      }
      const st = this.#members.get(m);
      if (st === undefined) void this.#load(m);
      else {
        st.absentSince = undefined;
        // A lease but no hash at the last load: it is (re)starting; look again.
        if (st.lastSeq < 0 && st.generation === 0) void this.#load(m);
      }
    }
    for (const m of this.#known()) {
      if (lease.entries.has(m)) continue;
      const st = this.#member(m);
      st.absentSince ??= mono;
      if (mono - st.absentSince > this.options.leaseTtl) this.#reap(m);
    }
  }

  // Members with replication state or in the directory, except this one.
  #known(): Set<string> {
    const out = new Set(this.#members.keys());
    for (const m of this.#dir.members()) out.add(m);
    out.delete(this.#memberId);
    return out;
  }

  #reap(m: string): void {
    if (this.#reaping.has(m) || !this.#bothReady()) return;
    this.#reaping.add(m);
    this.#stats.redisCommands++;
    (this.#cmd as Redis)
      .eval(
        REDIS_SCRIPTS.reap,
        2,
        this.#keys.members,
        this.#keys.nodes(m),
        m,
        this.#keys.presence,
        encodePresenceMessage({ type: "lost", memberId: m }),
        "0",
      )
      .then((removed) => {
        if (removed !== 1) return;
        this.#stats.reaped++;
        this.#lose(m);
      }, noop)
      .finally(() => this.#reaping.delete(m));
  }

  #lose(m: string): void {
    this.#members.delete(m);
    if (this.#phase === "closed" || !this.#dir.hasMember(m)) return;
    const nodes = this.#dir.removeMember(m);
    this.#stats.membersLost++;
    this.options.logger?.warn({ memberId: this.#memberId, lost: m, nodes: nodes.length }, "bus member lost");
    this.#guard(() => this.#handlers?.memberLost(m, nodes));
  }

  // ------------------------------------------------------------ replication

  #member(m: string): MemberState {
    let st = this.#members.get(m);
    if (st === undefined) {
      st = { lastSeq: -1, generation: 0, buffer: [], hints: undefined, absentSince: undefined, gapLoads: 0 };
      this.#members.set(m, st);
    }
    return st;
  }

  // Loads member `m`'s hash; its events arriving meanwhile wait in its buffer.
  #load(m: string): Promise<void> {
    const st = this.#member(m);
    const generation = ++this.#generation;
    st.generation = generation;
    this.#stats.loads++;
    this.#stats.redisCommands++;
    // Sent as a raw command: ioredis 6's auto-pipelining garbles
    // callBuffer(), and the reply must stay a flat array of Buffers.
    const command = new Command("HGETALL", [this.#keys.nodes(m)], { replyEncoding: null });
    (this.#cmd as Redis).sendCommand(command);
    return command.promise.then(
      (reply) => {
        if (st.generation !== generation || this.#members.get(m) !== st || this.#phase === "closed") return;
        st.generation = 0;
        this.#applySnapshot(m, st, reply as Buffer[]);
      },
      () => {
        if (st.generation !== generation) return;
        st.generation = 0;
        st.buffer = [];
      },
    );
  }

  #applySnapshot(m: string, st: MemberState, reply: Buffer[]): void {
    let seq = -1;
    let stored: PresenceMessage | undefined;
    const nodes: BusNode[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field = reply[i] as Buffer;
      const value = reply[i + 1] as Buffer;
      if (field.length === 0) {
        seq = Number(value.toString("latin1"));
        continue;
      }
      if (field.equals(SYNC_FIELD_BYTES)) {
        try {
          stored = decodePresenceMessage(value);
        } catch {
          this.#stats.decodeErrors++;
        }
        continue;
      }
      try {
        nodes.push(decodeDirectoryEntry(value, field.toString("utf8"), m));
      } catch {
        this.#stats.decodeErrors++;
      }
    }
    if (seq < 0) {
      // No hash: the member has not written it yet, or it was reaped. Keep
      // what we have; its sync (or its lease running out) settles it.
      st.lastSeq = -1;
      st.buffer = [];
      return;
    }
    // The published sync's hints, or the stored one's when this snapshot is that sync's (no change since).
    const hints =
      st.hints ??
      (stored?.type === "sync" && stored.seq === seq ? new Map(stored.hints.map((h) => [h.nodeId, h])) : undefined);
    const out: BusPresence[] | undefined = this.#silent ? undefined : [];
    this.#dir.replace(m, nodes, hints, Date.now(), out);
    st.hints = undefined;
    st.lastSeq = seq;
    if (out !== undefined) this.#emit(out);
    const buffered = st.buffer;
    st.buffer = [];
    for (const message of buffered) this.#onEvent(message);
  }

  #onEvent(message: EventMessage): void {
    const m = message.event.memberId;
    if (m === this.#memberId) return;
    const st = this.#member(m);
    if (st.generation !== 0) {
      st.buffer.push(message);
      return;
    }
    if (st.lastSeq >= 0) {
      if (message.seq <= st.lastSeq) return; // already in the snapshot
      if (message.seq === st.lastSeq + 1) {
        st.lastSeq = message.seq;
        st.gapLoads = 0;
        this.#stats.presenceIn++;
        const out: BusPresence[] = [];
        this.#dir.apply(message.event, out);
        this.#emit(out);
        return;
      }
    }
    // A gap (lost messages) or a member not loaded yet: load it.
    if (st.lastSeq >= 0 && ++st.gapLoads > MAX_GAP_LOADS) {
      this.#stats.gapsDropped++;
      return;
    }
    st.buffer.push(message);
    void this.#load(m);
  }

  #onPresence(message: PresenceMessage): void {
    switch (message.type) {
      case "event":
        this.#onEvent(message);
        return;
      case "sync": {
        if (message.memberId === this.#memberId) return;
        const st = this.#member(message.memberId);
        // Everything before the sync is in the snapshot about to be read.
        st.buffer = [];
        st.hints = new Map(message.hints.map((h) => [h.nodeId, h]));
        st.absentSince = undefined;
        st.gapLoads = 0;
        void this.#load(message.memberId);
        return;
      }
      case "lost":
        if (message.memberId === this.#memberId) {
          // Reaped while alive: announce everything again.
          if (this.#phase === "ok") this.#resyncOwn();
          else this.#needResync = true;
        } else this.#lose(message.memberId);
        return;
    }
  }

  readonly #onMessage = (channel: Buffer, message: Buffer): void => {
    if (this.#phase === "closed") return;
    if (channel.equals(this.#presenceChannel)) {
      let decoded: PresenceMessage;
      try {
        decoded = decodePresenceMessage(message);
      } catch {
        this.#stats.decodeErrors++;
        return;
      }
      this.#onPresence(decoded);
      return;
    }
    if (isEnvelopeFrom(message, this.#memberBytes)) return; // our own publish on {prefix}:all
    let envelope: BusEnvelope;
    let from: string;
    try {
      ({ envelope, fromMember: from } = decodeEnvelope(message));
    } catch {
      this.#stats.decodeErrors++;
      return;
    }
    this.#stats.relayedIn++;
    this.#guard(() => this.#handlers?.deliver(envelope, from));
  };

  // ------------------------------------------------------------ helpers

  #inbox(m: string): string {
    let channel = this.#inboxes.get(m);
    if (channel === undefined) {
      channel = this.#keys.inbox(m);
      if (this.#inboxes.size > 10_000) this.#inboxes.clear();
      this.#inboxes.set(m, channel);
    }
    return channel;
  }

  readonly #onDirectPublished = (receivers: number): void => {
    if (receivers === 0) this.#stats.undelivered++;
  };

  readonly #onRelayError = (): void => {
    this.#stats.relayErrors++;
  };

  #emit(events: readonly BusPresence[]): void {
    emitPresence(this.#handlers, events, this.#stats, this.#onHandlerError);
  }

  #guard(fn: () => void): void {
    callHandler(this.#stats, fn, this.#onHandlerError);
  }

  readonly #onHandlerError = (err: unknown): void => {
    this.options.logger?.error({ err, memberId: this.#memberId }, "a bus handler threw");
  };
}

async function quit(conn: Redis): Promise<void> {
  if (conn.status === "ready") {
    try {
      await conn.quit();
      return;
    } catch {
      // fall through
    }
  }
  conn.disconnect();
}

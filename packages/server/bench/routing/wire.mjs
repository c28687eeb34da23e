// Raw-socket hb nodes for the routing benchmark's load generators.
//
// Frames are built with @hb/codec (`makeFrame` + `encodeFrame`) ONCE, then
// the same bytes are written many times in large batches. Incoming bytes go
// through a FrameScanner that only reads length prefixes and the body tag:
// deliveries are counted, never decoded; only control frames (Welcome,
// Subscribed, WindowUpdate, HeartbeatAck, errors, fragments when asked) are
// decoded with the codec.
import net from "node:net";
import { decodeFrame, encodeFrame, makeFrame } from "@hb/codec";

// Frame body tags (field << 3 | 2), as varint bytes. See proto/hb/v1/frame.proto.
const TAG_DELIVERY = 0x9a; // field 19 → 154 → 0x9a 0x01
const TAG_PRESENCE = 0xaa; // field 21 → 170 → 0xaa 0x01
const TAG_FRAGMENT = 0xb2; // field 22 → 178 → 0xb2 0x01

/** Builds the wire form (length prefix included) of one frame. */
export const wire = (kind, value, channel = 0) => encodeFrame(makeFrame(kind, value, channel));

/** `count` copies of `frame` back to back: one write puts `count` frames on the wire. */
export function repeatFrame(frame, count) {
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) out.set(frame, i * frame.length);
  return out;
}

/** A 100-byte (or `size`) payload that is not all zeroes. */
export function payload(size = 100) {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = 97 + (i % 26);
  return p;
}

/**
 * Streaming frame scanner: counts Delivery / PresenceEvent frames (and their
 * bytes) by reading length prefixes and the body tag only; every other frame
 * is handed to `onControl(frame)` decoded. Fragment frames are decoded only
 * when `decodeFragments` (else they are counted in `fragments` /
 * `fragmentBytes` and skipped).
 */
export class FrameScanner {
  deliveries = 0;
  deliveryBytes = 0;
  fragments = 0;
  fragmentBytes = 0;
  bytes = 0;
  #skip = 0; // bytes of a counted frame still to skip
  #body = undefined; // control frame being assembled across chunks
  #filled = 0;
  #carry = undefined; // a frame header cut by a chunk boundary
  #onControl;
  #decodeFragments;

  constructor(onControl, { decodeFragments = false } = {}) {
    this.#onControl = onControl;
    this.#decodeFragments = decodeFragments;
  }

  push(chunk) {
    this.bytes += chunk.length;
    let pos = 0;
    if (this.#skip > 0) {
      const take = Math.min(this.#skip, chunk.length);
      this.#skip -= take;
      pos = take;
      if (pos === chunk.length) return;
    }
    if (this.#body !== undefined) {
      const body = this.#body;
      const take = Math.min(chunk.length - pos, body.length - this.#filled);
      body.set(chunk.subarray(pos, pos + take), this.#filled);
      this.#filled += take;
      pos += take;
      if (this.#filled < body.length) return;
      this.#body = undefined;
      this.#control(body);
      if (pos === chunk.length) return;
    }
    if (this.#carry !== undefined) {
      chunk = Buffer.concat([this.#carry, chunk.subarray(pos)]);
      pos = 0;
      this.#carry = undefined;
    }
    const n = chunk.length;
    while (pos < n) {
      const start = pos;
      // Length prefix.
      let len = 0;
      let shift = 0;
      let b;
      do {
        if (pos >= n) {
          this.#carry = Buffer.from(chunk.subarray(start));
          return;
        }
        b = chunk[pos++];
        len += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      // Frame.channel (field 1, varint) if present, then the body tag.
      let p = pos;
      if (p < n && chunk[p] === 0x08) {
        p++;
        while (p < n && chunk[p] & 0x80) p++;
        p++;
      }
      if (p + 1 >= n && pos + len > n) {
        this.#carry = Buffer.from(chunk.subarray(start));
        return;
      }
      const tag = chunk[p];
      const end = pos + len;
      if ((tag === TAG_DELIVERY || tag === TAG_PRESENCE) && chunk[p + 1] === 0x01) {
        this.deliveries++;
        this.deliveryBytes += end - start;
      } else if (tag === TAG_FRAGMENT && chunk[p + 1] === 0x01 && !this.#decodeFragments) {
        this.fragments++;
        this.fragmentBytes += end - start;
      } else if (end <= n) {
        this.#control(chunk.subarray(pos, end));
      } else {
        const body = new Uint8Array(len);
        body.set(chunk.subarray(pos), 0);
        this.#body = body;
        this.#filled = n - pos;
        return;
      }
      if (end > n) {
        this.#skip = end - n;
        return;
      }
      pos = end;
    }
  }

  #control(bytes) {
    this.#onControl(decodeFrame(bytes));
  }
}

/**
 * One raw hb node: a socket, a Hello, the Welcome, a FrameScanner, and the
 * flow-control credit the server grants (Welcome.initial_window plus
 * WindowUpdates). Subscribe resolves with the channel number.
 */
export class RawNode {
  /** Flow-control credit left, in payload bytes. */
  credit = 0;
  acks = 0;
  errors = [];
  /** Called for control frames not handled here (HeartbeatAck, Fragment when decoded, …). */
  onFrame = undefined;
  /** Called after each chunk was scanned, and on WindowUpdate / 'drain'. */
  onProgress = undefined;
  writable = true;
  #pendingSub = new Map();
  #welcome;

  constructor(socket, nodeId, scannerOptions) {
    this.socket = socket;
    this.nodeId = nodeId;
    this.scanner = new FrameScanner((f) => this.#onControl(f), scannerOptions);
    socket.on("data", (chunk) => {
      this.scanner.push(chunk);
      this.onProgress?.(this);
    });
    socket.on("drain", () => {
      this.writable = true;
      this.onProgress?.(this);
    });
  }

  /** Connects and completes the handshake (bounded by `timeoutMs`). */
  static connect({ port, nodeId, localAddress = "127.0.0.1", maxFrameSize = 0, timeoutMs = 20_000, scanner }) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress });
      socket.setNoDelay(true);
      const node = new RawNode(socket, nodeId, scanner);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`handshake of ${nodeId} timed out`));
      }, timeoutMs);
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once("connect", () => {
        socket.write(wire("hello", { protocolVersion: 1, nodeId, heartbeatIntervalMs: 0, maxFrameSize }));
      });
      node.#welcome = (w) => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.on("error", (e) => node.errors.push(e.message));
        node.credit = Number(w.initialWindow);
        resolve(node);
      };
    });
  }

  /** Subscribes; resolves with the channel number. */
  subscribe(subject, requestId, { queueSize = 0, overflow = 0 } = {}) {
    return new Promise((resolve, reject) => {
      this.#pendingSub.set(requestId, { resolve, reject });
      this.socket.write(wire("subscribe", { requestId, subject, queueSize, overflow }));
    });
  }

  /** Writes bytes; false once the socket buffers more than its high-water mark (wait for onProgress). */
  write(bytes) {
    const ok = this.socket.write(bytes);
    if (!ok) this.writable = false;
    return ok;
  }

  close() {
    this.socket.destroy();
  }

  #onControl(frame) {
    const body = frame.body;
    switch (body.case) {
      case "welcome":
        this.#welcome?.(body.value);
        this.#welcome = undefined;
        return;
      case "windowUpdate":
        this.credit += Number(body.value.credit);
        this.onProgress?.(this);
        return;
      case "subscribed": {
        const p = this.#pendingSub.get(body.value.requestId);
        this.#pendingSub.delete(body.value.requestId);
        p?.resolve(body.value.channel);
        return;
      }
      case "error": {
        const e = body.value;
        this.errors.push(`${e.code}${e.fatal ? " fatal" : ""}: ${e.message}`);
        const p = this.#pendingSub.get(Number(e.ref));
        if (p !== undefined) {
          this.#pendingSub.delete(Number(e.ref));
          p.reject(new Error(e.message));
        }
        return;
      }
      default:
        this.onFrame?.(frame);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

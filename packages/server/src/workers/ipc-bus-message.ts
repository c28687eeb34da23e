/**
 * How the IPC channel between a worker and the primary serializes messages:
 * Node's `serialization` option of `child_process.fork()` /
 * `cluster.setupPrimary()`. Under `json` (Node's default) the bus carries
 * its binary batches as base64 strings; under `advanced` (structured clone)
 * as bytes. The link and the hub detect the mode in the handshake, so both
 * work without configuration; `advanced` is the faster (see
 * bench/ipc-bus.bench.ts).
 */
export type IpcSerialization = "json" | "advanced";

/** A binary batch as it crosses the channel: bytes under `advanced`, base64 under `json`. */
export type IpcPayload = Uint8Array | string;

/**
 * An IPC message of the bus. Every one carries `hbBus: 1` (the protocol
 * version); the channel may carry other messages too, which the bus ignores.
 *
 * - `ready` (hub → worker): the hub listens on this channel; a worker still
 *   waiting for `welcome` sends its `hello` again (the first one may have
 *   come before the hub was attached).
 * - `hello` (worker → hub): join as `member`; `probe` is a one-byte
 *   `Uint8Array` that arrives as a `Uint8Array` only under `advanced`.
 * - `welcome` (hub → worker): joined; `mode` is the detected serialization,
 *   `d` a batch of member frames: the directory of every other member.
 * - `refused` (hub → worker): not joined (duplicate member id, …).
 * - `batch` (both ways): frames (see {@link IpcFrame}), in order.
 * - `bye` (worker → hub): the worker leaves cleanly.
 */
export type IpcBusMessage =
  | { hbBus: 1; t: "ready" }
  | { hbBus: 1; t: "hello"; member: string; probe: unknown }
  | { hbBus: 1; t: "welcome"; mode: IpcSerialization; d: IpcPayload }
  | { hbBus: 1; t: "refused"; reason: string }
  | { hbBus: 1; t: "batch"; d: IpcPayload }
  | { hbBus: 1; t: "bye" };

const TYPES = new Set(["ready", "hello", "welcome", "refused", "batch", "bye"]);

/** Whether `message` (anything received on an IPC channel) is one of the bus's. */
export function isIpcBusMessage(message: unknown): message is IpcBusMessage {
  if (typeof message !== "object" || message === null) return false;
  const m = message as { hbBus?: unknown; t?: unknown };
  return m.hbBus === 1 && typeof m.t === "string" && TYPES.has(m.t);
}

/** The `probe` of a `hello`: a `Uint8Array` that survives only `advanced` serialization as such. */
export function serializationProbe(): Uint8Array {
  return Uint8Array.of(1);
}

/** The serialization a `hello`'s `probe` went through. */
export function detectSerialization(probe: unknown): IpcSerialization {
  return probe instanceof Uint8Array ? "advanced" : "json";
}

/** Bytes as they cross a channel in `mode` (under `advanced` the bytes themselves: Node copies them while sending). */
export function toIpcPayload(bytes: Uint8Array, mode: IpcSerialization): IpcPayload {
  if (mode === "advanced") return bytes;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString("base64");
}

/**
 * The bytes of a received payload (a view, not a copy, under `advanced`).
 *
 * @throws RangeError when `payload` is neither bytes nor a string
 */
export function fromIpcPayload(payload: unknown): Buffer {
  if (payload instanceof Uint8Array) {
    return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  if (typeof payload === "string") return Buffer.from(payload, "base64");
  throw new RangeError(`IPC payload must be bytes or a base64 string, got ${typeof payload}`);
}

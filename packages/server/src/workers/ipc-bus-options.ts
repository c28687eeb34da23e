import { integerOption } from "../options/option-checks.js";
import type { IpcPort } from "./ipc-port.js";

/** Options shared by {@link IpcBusLink} and {@link IpcBusHub}. */
export interface IpcBusOptions {
  /**
   * Collect what is sent during one event-loop turn into one IPC message
   * (flushed on `setImmediate`, or earlier at `maxBatchBytes`). `false`
   * sends one IPC message per frame: several times slower (see
   * bench/ipc-bus.bench.ts); for measurement only. Default `true`.
   */
  batching?: boolean;
  /**
   * A batch is sent at once when it reaches this size, in bytes. Default
   * 262 144: under `advanced` serialization 256 KiB batches relayed ~15 %
   * more 100-byte envelopes per second than 64 KiB ones (bench/ipc-bus.bench.ts);
   * 1 024 .. 67 108 864.
   */
  maxBatchBytes?: number;
  /**
   * Bytes handed to Node's IPC channel and not yet written (the peer reads
   * too slowly) beyond which relayed messages to that peer are dropped and
   * counted in `stats().dropped`; presence and membership are never dropped.
   * Default 67 108 864 (64 MiB); 65 536 .. 4 294 967 296.
   */
  maxBacklogBytes?: number;
}

/** Options of {@link IpcBusLink}. */
export interface IpcBusLinkOptions extends IpcBusOptions {
  /** The channel to the primary. Default: this process's own ({@link processIpcPort}, taken in `start()`). */
  port?: IpcPort;
  /** How long `start()` waits for the hub's welcome, ms. Default 10 000; 1 .. 600 000. */
  startTimeout?: number;
}

/** Options of {@link IpcBusHub}. */
export interface IpcBusHubOptions extends IpcBusOptions {
  /**
   * The member id the hub sends as ({@link IpcBusHub.send}: messages the
   * primary itself publishes); no worker may join with it. Default
   * `"primary"`; 1 .. 128 characters.
   */
  memberId?: string;
}

/** {@link IpcBusOptions} with defaults applied. */
export interface ResolvedIpcBusOptions {
  /** See {@link IpcBusOptions.batching}. */
  readonly batching: boolean;
  /** See {@link IpcBusOptions.maxBatchBytes}. */
  readonly maxBatchBytes: number;
  /** See {@link IpcBusOptions.maxBacklogBytes}. */
  readonly maxBacklogBytes: number;
}

/** {@link IpcBusLinkOptions} with defaults applied (`port` stays optional). */
export interface ResolvedIpcBusLinkOptions extends ResolvedIpcBusOptions {
  /** See {@link IpcBusLinkOptions.port}. */
  readonly port: IpcPort | undefined;
  /** See {@link IpcBusLinkOptions.startTimeout}. */
  readonly startTimeout: number;
}

/** {@link IpcBusHubOptions} with defaults applied. */
export interface ResolvedIpcBusHubOptions extends ResolvedIpcBusOptions {
  /** See {@link IpcBusHubOptions.memberId}. */
  readonly memberId: string;
}

/**
 * Applies the defaults of {@link IpcBusLinkOptions} and validates them.
 *
 * @throws TypeError / RangeError naming the invalid option and its range
 */
export function resolveIpcBusLinkOptions(options: IpcBusLinkOptions = {}): ResolvedIpcBusLinkOptions {
  const port = options.port;
  if (port !== undefined && (typeof port.send !== "function" || typeof port.on !== "function")) {
    throw new TypeError("port must have send(), on() and off()");
  }
  return {
    ...shared(options),
    port,
    startTimeout: integerOption(options.startTimeout, "startTimeout", 10_000, { min: 1, max: 600_000 }),
  };
}

/**
 * Applies the defaults of {@link IpcBusHubOptions} and validates them.
 *
 * @throws TypeError / RangeError naming the invalid option and its range
 */
export function resolveIpcBusHubOptions(options: IpcBusHubOptions = {}): ResolvedIpcBusHubOptions {
  const memberId = options.memberId ?? "primary";
  if (typeof memberId !== "string" || memberId.length === 0 || memberId.length > 128) {
    throw new TypeError("memberId must be a string of 1..128 characters");
  }
  return { ...shared(options), memberId };
}

function shared(options: IpcBusOptions): ResolvedIpcBusOptions {
  const batching = options.batching ?? true;
  if (typeof batching !== "boolean") throw new TypeError("batching must be a boolean");
  return {
    batching,
    maxBatchBytes: integerOption(options.maxBatchBytes, "maxBatchBytes", 262_144, { min: 1_024, max: 64 * 1024 * 1024 }),
    maxBacklogBytes: integerOption(options.maxBacklogBytes, "maxBacklogBytes", 64 * 1024 * 1024, { min: 65_536, max: 2 ** 32 }),
  };
}

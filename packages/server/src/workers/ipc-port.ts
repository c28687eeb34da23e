/**
 * One end of a process IPC channel, as the IPC bus uses it: a
 * `child_process.fork()` child or a `cluster.fork()` worker seen from the
 * primary, or `process` itself seen from the worker. Anything with these
 * members fits, so tests can drive the bus with a fake.
 *
 * Messages that are not the bus's (see {@link isIpcBusMessage}) are left alone,
 * so the integrator may use the same channel for its own control messages.
 */
export interface IpcPort {
  /**
   * Sends one message. The bus always passes `callback`, which Node calls
   * once the message is written (or with the error, e.g.
   * `ERR_IPC_CHANNEL_CLOSED`), so a closed channel never raises `error`.
   *
   * @returns `false` when Node's send queue is over its threshold (the
   *   message is queued anyway)
   */
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  /** Adds a listener; the bus listens to `message`, and to `disconnect` and `exit` to notice a dead peer. */
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener added with {@link IpcPort.on}. */
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * The current process's channel to its parent, for an {@link IpcBusLink} in
 * a worker.
 *
 * @throws Error when the process has no IPC channel (it was not started by
 *   `child_process.fork()` / `cluster.fork()`, or the channel is closed)
 */
export function processIpcPort(): IpcPort {
  if (typeof process.send !== "function" || process.connected !== true) {
    throw new Error("no IPC channel: this process was not forked with an IPC channel, or it is disconnected");
  }
  return {
    send: (message, callback) => {
      if (typeof process.send === "function") return process.send(message, callback);
      process.nextTick(callback, new Error("IPC channel closed"));
      return false;
    },
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
}

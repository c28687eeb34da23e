import type { HeartbeatClient, HeartbeatClientEvents } from "../src/index.js";

type Arg<K extends keyof HeartbeatClientEvents> = HeartbeatClientEvents[K] extends [] ? undefined : HeartbeatClientEvents[K][0];

/**
 * Resolves with the next `name` event's argument; rejects after `timeoutMs`.
 * Unlike `events.once` it does not listen to `error` (which would change
 * whether the client emits it).
 */
export function next<K extends keyof HeartbeatClientEvents>(
  client: HeartbeatClient,
  name: K,
  timeoutMs = 3000,
): Promise<Arg<K>> {
  const emitter = client as unknown as NodeJS.EventEmitter;
  return new Promise((resolve, reject) => {
    const listener = (arg: Arg<K>): void => {
      clearTimeout(timer);
      resolve(arg);
    };
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no ${String(name)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(name, listener);
  });
}

/** Sleeps. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

import { fileURLToPath } from "node:url";
import type { Logger } from "../core/ports/logger.js";
import type {
  AuthenticateHook,
  AuthorizeBroadcastHook,
  AuthorizePublishHook,
  AuthorizeSendHook,
  AuthorizeSubscribeHook,
} from "../options/server-options.js";

/** What a worker process learns about itself when it loads the `workerModule`. */
export interface WorkerContext {
  /** The worker's bus member id, `w<workerId>` (the `serverId` of its node events). */
  memberId: string;
  /** The `node:cluster` worker id (a restarted worker gets a new one). */
  workerId: number;
  /** The primary's `serverId`. */
  serverId: string;
}

/**
 * What a `workerModule` provides to each worker process: the options that
 * are functions or live objects, which cannot be sent to another process.
 * Every key is optional; each is checked as the option of the same name.
 */
export interface WorkerSetup {
  /** See {@link HeartbeatServerOptions.authenticate}. */
  authenticate?: AuthenticateHook;
  /** See {@link HeartbeatServerOptions.authorizeSubscribe}. */
  authorizeSubscribe?: AuthorizeSubscribeHook;
  /** See {@link HeartbeatServerOptions.authorizePublish}. */
  authorizePublish?: AuthorizePublishHook;
  /** See {@link HeartbeatServerOptions.authorizeBroadcast}. */
  authorizeBroadcast?: AuthorizeBroadcastHook;
  /** See {@link HeartbeatServerOptions.authorizeSend}. */
  authorizeSend?: AuthorizeSendHook;
  /** The worker's own logger. Default: the worker's records are forwarded to the primary's `logger`. */
  logger?: Logger;
}

/**
 * The default export a `workerModule` must have: a {@link WorkerSetup}, or a
 * function (sync or async) that returns one for a given worker.
 *
 * ```ts
 * // hooks.ts, named by workerModule: new URL("./hooks.js", import.meta.url)
 * import type { WorkerModuleExport } from "@hb/server";
 * const setup: WorkerModuleExport = ({ memberId }) => ({
 *   authenticate: (hello) => hello.token === process.env.HB_TOKEN,
 *   authorizePublish: (node, subject) => subject.startsWith(`${node.nodeId}.`),
 * });
 * export default setup;
 * ```
 */
export type WorkerModuleExport = WorkerSetup | ((context: WorkerContext) => WorkerSetup | Promise<WorkerSetup>);

/** The keys a {@link WorkerSetup} may have. */
export const WORKER_SETUP_KEYS = [
  "authenticate",
  "authorizeSubscribe",
  "authorizePublish",
  "authorizeBroadcast",
  "authorizeSend",
  "logger",
] as const satisfies readonly (keyof WorkerSetup)[];

/**
 * Imports a `workerModule` in a worker process and returns its
 * {@link WorkerSetup} for `context`.
 *
 * @throws Error naming the module when it cannot be imported, has no default
 *   export of the right shape, or its setup has an unknown key
 */
export async function loadWorkerSetup(url: string, context: WorkerContext): Promise<WorkerSetup> {
  const where = `workerModule ${fileURLToPath(url)}`;
  let exported: unknown;
  try {
    exported = ((await import(url)) as { default?: unknown }).default;
  } catch (err) {
    throw new Error(`${where} failed to load: ${err instanceof Error ? err.message : String(err)}`);
  }
  const setup = typeof exported === "function" ? await (exported as (c: WorkerContext) => unknown)(context) : exported;
  if (typeof setup !== "object" || setup === null) {
    throw new TypeError(`${where} must export default a WorkerSetup object or a function returning one`);
  }
  for (const key of Object.keys(setup)) {
    if (!(WORKER_SETUP_KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`${where}: unknown WorkerSetup key "${key}" (allowed: ${WORKER_SETUP_KEYS.join(", ")})`);
    }
  }
  return setup as WorkerSetup;
}

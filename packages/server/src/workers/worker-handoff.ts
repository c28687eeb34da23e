import type { Socket } from "node:net";
import type { ConnectionQuota } from "../session/connection-quota.js";
import { RESUME_TOKEN_BYTES } from "../session/resume-store.js";

/** Bytes a worker appends to the resume tokens it issues: its worker id, uint32 big-endian. */
export const WORKER_TAG_BYTES = 4;

/**
 * Passes `socket`, and every byte already read from it, to worker `target`
 * of a multi-process server (the optional last argument of
 * {@link TcpTransport}'s constructor; the server supplies it in workers),
 * with the client's address the connection was counted under.
 */
export type HandoffSender = (target: number, socket: Socket, bytes: Uint8Array, remoteAddress: string) => void;

/**
 * @internal A worker process's part in a multi-process server, given to its
 * `HeartbeatServer` by the worker entry: its id goes into every resume token
 * it issues, and a connection whose Hello presents a token of another
 * worker is handed to that worker with `handoff` (through the primary),
 * so that a resume works whichever worker the reconnect lands on.
 */
export interface WorkerRole {
  /** The `node:cluster` worker id of this process. */
  readonly workerId: number;
  /** Passes `socket`, and every byte already read from it, to worker `target`. */
  readonly handoff: HandoffSender;
  /** Where the connection limits are counted: the primary, for the whole server. */
  readonly quota: ConnectionQuota;
}

/** The tag a worker appends to its resume tokens. */
export function workerTag(workerId: number): Uint8Array {
  const tag = new Uint8Array(WORKER_TAG_BYTES);
  new DataView(tag.buffer).setUint32(0, workerId);
  return tag;
}

/** The worker id a resume token is tagged with, or `undefined` for an untagged (or malformed) token. */
export function tokenWorker(token: Uint8Array): number | undefined {
  if (token.length !== RESUME_TOKEN_BYTES + WORKER_TAG_BYTES) return undefined;
  return new DataView(token.buffer, token.byteOffset, token.byteLength).getUint32(RESUME_TOKEN_BYTES);
}

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
  /** The `node:cluster` worker id of this process (below 65 536). */
  readonly workerId: number;
  /** The primary's epoch (16 bits): tokens of another primary (before a restart) are not handed off. */
  readonly epoch: number;
  /** Passes `socket`, and every byte already read from it, to worker `target`. */
  readonly handoff: HandoffSender;
  /** Where the connection limits are counted: the primary, for the whole server. */
  readonly quota: ConnectionQuota;
}

/** The tag a worker appends to its resume tokens: the primary's epoch (16 bits), then its worker id (16 bits). */
export function workerTag(workerId: number, epoch: number): Uint8Array {
  const tag = new Uint8Array(WORKER_TAG_BYTES);
  const view = new DataView(tag.buffer);
  view.setUint16(0, epoch & 0xffff);
  view.setUint16(2, workerId & 0xffff);
  return tag;
}

/**
 * The worker id a resume token is tagged with when it was issued under
 * primary `epoch`, or `undefined` for an untagged (or malformed) token or
 * one of another primary: after a restart, a token names a worker of the
 * old server, and handing the connection to the new worker of that id
 * would only cost a pass through the primary (a fresh session either way).
 */
export function tokenWorker(token: Uint8Array, epoch: number): number | undefined {
  if (token.length !== RESUME_TOKEN_BYTES + WORKER_TAG_BYTES) return undefined;
  const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
  if (view.getUint16(RESUME_TOKEN_BYTES) !== (epoch & 0xffff)) return undefined;
  return view.getUint16(RESUME_TOKEN_BYTES + 2);
}

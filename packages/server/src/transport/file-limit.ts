import { readFileSync } from "node:fs";

/**
 * Descriptors a process keeps free of connections: its listening sockets,
 * IPC channel, log files, a sibling's socket handed over for a resume, the
 * TLS key files… and libuv's spare descriptor. Connections beyond
 * `limit − FILE_RESERVE` are refused with a coded `SERVER_FULL`.
 */
export const FILE_RESERVE = 64;

/**
 * The soft limit on open files of this process (`ulimit -n`), read once
 * from `/proc/self/limits` (Linux); `undefined` where it cannot be read or
 * is unlimited. Node has no API for `getrlimit`.
 *
 * Why it matters: at the limit `accept` fails with `EMFILE`, and libuv then
 * accepts and closes every waiting connection without telling JavaScript
 * (`uv__emfile_trick`): silent resets. A server that knows the limit refuses
 * the connections beyond it with a coded error instead.
 */
export function openFileLimit(): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const line = readFileSync("/proc/self/limits", "latin1")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    const n = soft === undefined ? Number.NaN : Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

// One line naming the machine a figure was measured on.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** The open-file limit of this process (soft), from /proc/self/limits; Infinity if unknown. */
export function fileLimit() {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) ? soft : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** "AMD EPYC ×2, 24 GiB, Linux 6.x, node v20.x (server: node v22.x), file limit 20000". */
export function describeMachine(serverNode) {
  const cpus = os.cpus();
  let serverVersion = process.version;
  if (serverNode !== undefined) {
    try {
      serverVersion = execFileSync(serverNode, ["--version"], { encoding: "utf8" }).trim();
    } catch {
      serverVersion = `? (${serverNode})`;
    }
  }
  return (
    `${cpus[0]?.model ?? "?"} ×${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, ` +
    `node ${process.version}${serverVersion === process.version ? "" : ` (servers: ${serverVersion})`}, file limit ${fileLimit()} per process`
  );
}

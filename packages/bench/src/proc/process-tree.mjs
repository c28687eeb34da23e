// What a process tree costs, read from /proc (Linux): resident memory, CPU
// time and open files of a process and every descendant (a multi-process hb
// server's workers, for instance). Read from outside, so that it works the
// same for hb, Mosquitto, nats-server and Socket.IO and adds nothing to the
// measured process.
import { readFileSync, readdirSync } from "node:fs";

const PAGE = 4096; // getconf PAGESIZE on x86-64 Linux
const CLK_TCK = 100; // getconf CLK_TCK on Linux (USER_HZ)

const read = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Direct children of `pid` (every thread's children), or [] once it is gone. */
export function childrenOf(pid) {
  const out = [];
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    const text = read(`/proc/${pid}/task/${tid}/children`);
    if (text === undefined) continue;
    for (const c of text.trim().split(/\s+/)) if (c !== "") out.push(Number(c));
  }
  return out;
}

/** `pid` and all its descendants, parents first. */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]));
  return out;
}

/**
 * One process: `rss` (bytes), `cpuMs` (user + system, ms), `fds` (open file
 * descriptors), `name`; `undefined` once it is gone.
 */
export function processUsage(pid) {
  const statm = read(`/proc/${pid}/statm`);
  const stat = read(`/proc/${pid}/stat`);
  if (statm === undefined || stat === undefined) return undefined;
  // The command name is in parentheses and may contain spaces: fields count from the last ')'.
  const close = stat.lastIndexOf(")");
  const name = stat.slice(stat.indexOf("(") + 1, close);
  const fields = stat.slice(close + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after the name and state.
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  let fds = 0;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    fds = -1;
  }
  return { pid, name, rss: Number(statm.split(" ")[1]) * PAGE, cpuMs, fds };
}

/** {@link processUsage} of `pid` and each descendant, plus their sums (`rss`, `cpuMs`). */
export function treeUsage(pid) {
  const processes = [];
  for (const p of processTree(pid)) {
    const u = processUsage(p);
    if (u !== undefined) processes.push(u);
  }
  return {
    processes,
    rss: processes.reduce((a, p) => a + p.rss, 0),
    cpuMs: processes.reduce((a, p) => a + p.cpuMs, 0),
  };
}

// Runs the real, built binaries (dist/) as child processes, as an operator would.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = (name: string) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));
/** The built binaries. */
export const BIN = { hbServer: dist("hb-server"), hb: dist("hb") };
for (const path of Object.values(BIN)) {
  if (!existsSync(path)) throw new Error(`${path} is missing: build first (pnpm build, or scripts/test.sh)`);
}

/** Environment for the children: no HB_* leaking in from the caller. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HB_")) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a binary to completion (killed after `timeoutMs`). */
export function run(
  bin: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; input?: string; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv(opts.env), cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${bin} ${args.join(" ")} did not finish in ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** A running hb-server: its JSON log records, ports, and how to signal it. */
export interface RunningServer {
  child: ChildProcess;
  records: Record<string, any>[];
  port: number;
  adminPort: number;
  admin: string;
  exited: Promise<number | null>;
  /** Resolves with the first record (past or future) matching `match`. */
  record(match: (r: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** SIGKILLs it if still running (cleanup). */
  kill(): void;
}

/** Starts hb-server (JSON logs) and resolves once it logged "hb-server ready". */
export async function startServer(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [BIN.hbServer, "--log-format", "json", ...args], { env: cleanEnv(env), cwd, stdio: ["ignore", "pipe", "pipe"] });
  const records: Record<string, any>[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => {
    buffer += d;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        records.push(JSON.parse(line));
      } catch {
        records.push({ msg: line, unparsed: true });
      }
      for (const w of waiters) w();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const record = (match: (r: Record<string, any>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const check = () => {
        const found = records.find(match);
        if (found === undefined) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching log record within ${timeoutMs} ms; got:\n${records.map((r) => JSON.stringify(r)).join("\n")}\nstderr: ${stderr}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
      void exited.then(() => {
        if (waiters.has(check)) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`hb-server exited; records:\n${records.map((r) => JSON.stringify(r)).join("\n")}\nstderr: ${stderr}`));
        }
      });
    });
  const ready = await record((r) => r.msg === "hb-server ready");
  return {
    child,
    records,
    port: ready.port,
    adminPort: ready.adminPort,
    admin: `http://127.0.0.1:${ready.adminPort}`,
    exited,
    record,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    },
  };
}

/** GETs a JSON endpoint (the admin API) and returns its body. */
export async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

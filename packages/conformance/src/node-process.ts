import { type ChildProcess, spawn } from "node:child_process";

/** How a node process ended. */
export interface NodeExit {
  /** Exit code, or `null` when killed by a signal. */
  readonly code: number | null;
  /** Signal that ended it, or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** `performance.now()` when it ended. */
  readonly at: number;
}

const MAX_OUTPUT = 4096;

/**
 * Prefixes a simple command (no shell operators, no leading variable
 * assignment) with `exec`, so that the shell is replaced by the program:
 * then the exit status and the moment of exit reported are the program's,
 * not those of a shell killed by the group's SIGTERM while its child is
 * still saying Goodbye.
 */
function execIfSimple(command: string): string {
  const trimmed = command.trim();
  if (/[;&|<>()`\n]|\$\(/.test(trimmed) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(trimmed) || /^exec\s/.test(trimmed)) return command;
  return `exec ${trimmed}`;
}

const live = new Set<NodeProcess>();
let exitHookInstalled = false;

/**
 * A node under test: a shell command started in its own process group, so
 * that signals reach the real program behind wrappers such as `sh -c`,
 * `tsx` or `go run` (like systemd's default `KillMode=control-group`). Its
 * stdout and stderr are kept (the last 4 KiB) for failure messages. Every
 * process still running when the runner exits is killed.
 */
export class NodeProcess {
  /** The command line. */
  readonly command: string;
  readonly #child: ChildProcess;
  #exit: NodeExit | undefined;
  readonly #exited: Promise<NodeExit>;
  #output = "";

  private constructor(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined) {
    this.command = command;
    this.#child = spawn(execIfSimple(command), { shell: true, detached: true, env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString("utf8")).slice(-MAX_OUTPUT);
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
    this.#exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.#exit !== undefined) return;
        this.#exit = { code, signal, at: performance.now() };
        live.delete(this);
        resolve(this.#exit);
      };
      this.#child.once("exit", done);
      this.#child.once("error", (err) => {
        this.#output += `\n[conformance] could not start: ${err.message}`;
        done(null, null);
      });
    });
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once("exit", () => {
        for (const p of live) p.#killGroup("SIGKILL");
      });
    }
  }

  /**
   * Starts `command` through the shell.
   *
   * @param env - environment variables added to this process's environment
   */
  static start(command: string, env: Record<string, string>, cwd?: string): NodeProcess {
    return new NodeProcess(command, { ...process.env, ...env }, cwd);
  }

  /** Process id of the shell (the process group id). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** How it ended, or `undefined` while running. */
  get exit(): NodeExit | undefined {
    return this.#exit;
  }

  /** Resolves when the process has exited. */
  get exited(): Promise<NodeExit> {
    return this.#exited;
  }

  /** The last output lines (stdout and stderr interleaved), joined with " | ", at most about 600 characters. */
  outputTail(): string {
    const lines = this.#output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    const tail = lines.slice(-8).join(" | ");
    return tail.length > 600 ? `…${tail.slice(-600)}` : tail;
  }

  /** "the node exited with code 1 (output: …)" or "the node is running"; for failure messages. */
  describe(): string {
    const out = this.outputTail();
    const output = out === "" ? "no output" : `output: ${out}`;
    const e = this.#exit;
    if (e === undefined) return `the node is still running (${output})`;
    const how = e.signal !== null ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    return `the node ${how} (${output})`;
  }

  /** Sends `signal` to the node's process group. */
  signal(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.#killGroup(signal);
  }

  /** Kills the process group (SIGKILL) and waits up to 2 s for the exit. */
  async stop(): Promise<void> {
    if (this.#exit === undefined) this.#killGroup("SIGKILL");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
  }

  #killGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

/** One line of a node's stdout event log (examples/go-node/README.md, "The CLI contract"). */
export type NodeEvent = { event: string } & Record<string, unknown>;

/**
 * A Go or Python example node run as a child process, driven through its
 * line-oriented JSON contract: commands on stdin, events on stdout.
 */
export class NodeProcess {
  readonly events: NodeEvent[] = [];
  readonly child: ChildProcess;
  #waiters: { pred: (e: NodeEvent) => boolean; resolve: (e: NodeEvent) => void }[] = [];
  #stderr = "";

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    if (!existsSync(command)) {
      throw new Error(`${command} is missing: run \`bash scripts/polyglot.sh build\` (the test command does) before this test`);
    }
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let e: NodeEvent;
      try {
        e = JSON.parse(line) as NodeEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
  }

  /** Sends one command line. */
  cmd(command: Record<string, unknown>): void {
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  /** Resolves with the first event (already seen or coming) that matches; fails after `timeoutMs`. */
  waitFor(pred: (e: NodeEvent) => boolean, timeoutMs: number, what: string): Promise<NodeEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-8))}; stderr: ${this.#stderr}`));
      }, timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Kills the process (SIGKILL) if it still runs. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

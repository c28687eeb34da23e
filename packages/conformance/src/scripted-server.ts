import { type Server, type Socket, createServer } from "node:net";
import { RawConnection } from "./raw-connection.js";

/**
 * The fake hb server of node mode: a TCP listener whose connections are
 * handed to the scenario as {@link RawConnection}s, in arrival order. It
 * does nothing by itself; the scenario scripts every frame.
 */
export class ScriptedServer {
  /** Listening host. */
  readonly host: string;
  readonly #server: Server;
  readonly #pending: RawConnection[] = [];
  readonly #open = new Set<Socket>();
  #wake: (() => void) | undefined;
  #count = 0;
  #refused: number[] = [];
  /**
   * When true, new connections are closed at once (before any frame) and
   * only counted in {@link ScriptedServer.refusedAt}.
   */
  refusing = false;

  private constructor(server: Server, host: string) {
    this.#server = server;
    this.host = host;
    server.on("connection", (socket) => {
      this.#open.add(socket);
      socket.on("close", () => this.#open.delete(socket));
      if (this.refusing) {
        this.#refused.push(performance.now());
        socket.destroy();
        return;
      }
      this.#count++;
      this.#pending.push(new RawConnection(socket, { label: `the node's connection #${this.#count}`, peer: "node" }));
      this.#wake?.();
    });
  }

  /** Starts listening on `host` (default 127.0.0.1) on a random port. */
  static listen(host = "127.0.0.1"): Promise<ScriptedServer> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, host, () => {
        server.off("error", reject);
        resolve(new ScriptedServer(server, host));
      });
    });
  }

  /** The listening port. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** Connections accepted so far (refused ones excluded). */
  get accepted(): number {
    return this.#count;
  }

  /** `performance.now()` of each connection closed at once while {@link ScriptedServer.refusing}. */
  get refusedAt(): readonly number[] {
    return this.#refused;
  }

  /**
   * The next accepted connection, waiting up to `timeoutMs`.
   *
   * @returns `undefined` if none arrived in time (or `stop` resolved first)
   */
  async accept(timeoutMs: number, stop?: Promise<unknown>): Promise<RawConnection | undefined> {
    const deadline = performance.now() + timeoutMs;
    let stopped = false;
    void stop?.then(() => {
      stopped = true;
      this.#wake?.();
    });
    for (;;) {
      const conn = this.#pending.shift();
      if (conn !== undefined) return conn;
      const remaining = deadline - performance.now();
      if (remaining <= 0 || stopped) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        this.#wake = done;
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#wake = undefined;
    }
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    for (const socket of this.#open) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

import { type Frame, FrameDecoder, PROTOCOL_VERSION, PresenceKind, encodeFrame, makeFrame } from "@hb/codec";
import { type Socket, connect } from "node:net";

/**
 * A minimal node for the soak: Hello, Heartbeats every `beatMs` until told
 * to leave (Goodbye) or to fall silent (its socket stays open: the server
 * times it out), and Publish. Written with @hb/codec alone, so that a soak
 * of hundreds of nodes costs the driver little.
 */
export class ChurnNode {
  readonly nodeId: string;
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameSize: 16 * 1024 * 1024 });
  #timer: NodeJS.Timeout | undefined;
  #seq = 0n;
  /** Called with every frame received. */
  onFrame: ((f: Frame) => void) | undefined;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;

  private constructor(nodeId: string, socket: Socket) {
    this.nodeId = nodeId;
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.#decoder.push(chunk, (f) => this.onFrame?.(f));
    });
    this.closed = new Promise((r) => socket.once("close", () => r()));
  }

  /** Connects and says Hello; resolves once welcomed. */
  static async join(port: number, nodeId: string, beatMs: number): Promise<ChurnNode> {
    const socket = connect({ port, host: "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const node = new ChurnNode(nodeId, socket);
    const welcomed = new Promise<void>((resolve, reject) => {
      node.onFrame = (f) => {
        if (f.body.case === "welcome") resolve();
        else if (f.body.case === "error") reject(new Error(`${nodeId}: refused: ${f.body.value.message}`));
      };
      void node.closed.then(() => reject(new Error(`${nodeId}: closed before Welcome`)));
    });
    node.#send(makeFrame("hello", { protocolVersion: PROTOCOL_VERSION, nodeId, heartbeatIntervalMs: beatMs * 2 }));
    await welcomed;
    node.onFrame = undefined;
    node.#timer = setInterval(() => node.#send(makeFrame("heartbeat", { seq: ++node.#seq })), beatMs);
    return node;
  }

  /** Subscribes to `subject` (`$hb.presence` for presence events) with a large queue. */
  subscribe(subject: string, requestId: number): void {
    this.#send(makeFrame("subscribe", { requestId, subject, queueSize: 1_000_000 }));
  }

  /** Publishes `payload` to `subject`. */
  publish(subject: string, payload: Uint8Array): void {
    this.#send(makeFrame("publish", { subject, payload }));
  }

  /** Stops heartbeating, socket left open: the server must time the node out. */
  fallSilent(): void {
    clearInterval(this.#timer);
  }

  /** Sends Goodbye and closes. */
  leave(): void {
    clearInterval(this.#timer);
    this.#send(makeFrame("goodbye", { reason: "soak churn" }));
    this.#socket.end();
  }

  /** Closes at once. */
  destroy(): void {
    clearInterval(this.#timer);
    this.#socket.destroy();
  }

  #send(frame: Frame): void {
    if (!this.#socket.destroyed) this.#socket.write(encodeFrame(frame));
  }
}

/** The soak's name of a PresenceEvent kind. */
export function presenceKindName(kind: PresenceKind): string {
  switch (kind) {
    case PresenceKind.JOINED:
      return "joined";
    case PresenceKind.LEFT:
      return "left";
    case PresenceKind.SUSPECT:
      return "suspect";
    case PresenceKind.TIMED_OUT:
      return "timeout";
    case PresenceKind.RECOVERED:
      return "recovered";
    default:
      return `kind-${kind}`;
  }
}

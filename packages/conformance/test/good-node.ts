/**
 * A tiny scripted hb node for testing node mode, written with `@hb/codec`
 * only. It connects to HB_ADDR, heartbeats at the negotiated interval, drops
 * a silent server after the negotiated timeout, reconnects with backoff
 * presenting the last resume token, reconnects on GoAway, stops after a
 * permanent refusal (DUPLICATE_NODE, UNAUTHORIZED, …), and on SIGTERM sends
 * Goodbye and exits.
 *
 * Deliberate faults for the broken-node tests (command-line flags):
 *   --no-heartbeats   never send a Heartbeat
 *   --no-goodbye      exit on SIGTERM without Goodbye
 *   --no-resume       reconnect without the resume token
 *
 * Run: node --import tsx packages/conformance/test/good-node.ts [flags]
 */
import { type Socket, connect } from "node:net";
import { ErrorCode, type Frame, FrameDecoder, PROTOCOL_VERSION, encodeFrame, makeFrame } from "@hb/codec";

const flags = new Set(process.argv.slice(2));
const [host, portText] = (process.env.HB_ADDR ?? "127.0.0.1:9501").split(":");
const port = Number(portText);

let nodeId = process.env.HB_NODE_ID ?? `good-node-${process.pid}`;
let resumeToken = new Uint8Array(0);
let attempt = 0;
let stopping = false;
let permanent: ErrorCode | undefined;
// Fatal codes after which a client must not reconnect by itself (PROTOCOL.md §6.6).
const PERMANENT = new Set([ErrorCode.UNAUTHORIZED, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.INVALID_ARGUMENT, ErrorCode.DUPLICATE_NODE]);
let current: { socket: Socket; welcomed: boolean } | undefined;

function start(): void {
  const socket = connect({ host: host as string, port });
  const conn = { socket, welcomed: false };
  current = conn;
  const decoder = new FrameDecoder();
  let heartbeat: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let lastHeard = performance.now();
  let seq = 0n;
  const send = (frame: Frame): void => {
    if (!socket.destroyed) socket.write(encodeFrame(frame));
  };

  socket.setNoDelay(true);
  socket.on("connect", () => {
    send(
      makeFrame("hello", {
        protocolVersion: PROTOCOL_VERSION,
        nodeId,
        resumeToken: flags.has("--no-resume") ? new Uint8Array(0) : resumeToken,
        clientName: "conformance good-node",
      }),
    );
  });
  socket.on("data", (chunk) => {
    lastHeard = performance.now();
    const err = decoder.push(chunk, (frame) => {
      const body = frame.body;
      if (body.case === "welcome" && !conn.welcomed) {
        conn.welcomed = true;
        attempt = 0;
        nodeId = body.value.nodeId;
        resumeToken = body.value.resumeToken.slice();
        const interval = body.value.heartbeatIntervalMs;
        const timeout = body.value.heartbeatTimeoutMs;
        if (!flags.has("--no-heartbeats")) {
          heartbeat = setInterval(() => {
            send(makeFrame("heartbeat", { seq: ++seq, sendTimeUs: BigInt(Math.round(performance.now() * 1000)) }));
          }, interval);
        }
        deadline = setInterval(() => {
          if (performance.now() - lastHeard > timeout) socket.destroy();
        }, 20);
      } else if (body.case === "error" && body.value.fatal) {
        if (PERMANENT.has(body.value.code)) permanent = body.value.code;
        socket.destroy();
      } else if (body.case === "goAway") {
        socket.destroy();
      }
    });
    if (err !== undefined) socket.destroy();
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    clearInterval(heartbeat);
    clearInterval(deadline);
    if (stopping) process.exit(0);
    if (permanent !== undefined) {
      console.error(`refused with ${ErrorCode[permanent]}: not reconnecting`);
      process.exit(1);
    }
    // Full-jitter backoff from 100 ms, capped at 2 s.
    const delay = 1 + Math.floor(Math.random() * Math.min(2000, 100 * 2 ** attempt++));
    setTimeout(start, delay);
  });
}

process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  const conn = current;
  if (flags.has("--no-goodbye") || conn === undefined || !conn.welcomed || conn.socket.destroyed) process.exit(0);
  conn.socket.write(encodeFrame(makeFrame("goodbye", { reason: "SIGTERM" })));
  conn.socket.end();
  setTimeout(() => process.exit(0), 1000).unref();
});

start();

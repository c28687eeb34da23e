/**
 * A tiny scripted hb node for testing node mode, written with `@hb/codec`
 * only. It connects to HB_ADDR, heartbeats at the negotiated interval, drops
 * a silent server after the negotiated timeout, reconnects with backoff
 * presenting the last resume token, reconnects on GoAway (after its
 * reconnect_delay_ms, keeping the connection meanwhile), waits out a
 * refusal's retry_after_ms, stops after a permanent refusal (DUPLICATE_NODE,
 * UNAUTHORIZED, …), reports heartbeat RTTs (feature heartbeat-rtt), takes
 * its credential from HB_TOKEN_FILE and renews it before it expires
 * (feature token-renewal), and on SIGTERM sends Goodbye and exits.
 *
 * Deliberate faults for the broken-node tests (command-line flags):
 *   --no-heartbeats            never send a Heartbeat
 *   --no-goodbye               exit on SIGTERM without Goodbye
 *   --no-resume                reconnect without the resume token
 *   --ignore-reconnect-delay   leave at once on GoAway, whatever its reconnect_delay_ms
 *   --no-features              list no optional feature in Hello (not a fault: features are optional)
 *
 * Run: node --import tsx packages/conformance/test/good-node.ts [flags]
 */
import { readFileSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { ErrorCode, Feature, type Frame, FrameDecoder, PROTOCOL_VERSION, encodeFrame, makeFrame } from "@hb/codec";

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
// No reconnect before this performance.now(): a GoAway's delay, or a refusal's retry_after_ms.
let notBefore = 0;
let exact = false; // notBefore is a GoAway's delay: reconnect then, without jitter
const tokenFile = process.env.HB_TOKEN_FILE;
const credential = (): string => (tokenFile === undefined ? "" : readFileSync(tokenFile, "utf8").trim());

function start(): void {
  const socket = connect({ host: host as string, port });
  const conn = { socket, welcomed: false };
  current = conn;
  const decoder = new FrameDecoder();
  let heartbeat: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let lastHeard = performance.now();
  let seq = 0n;
  let rttToReport = 0;
  let features = new Set<string>();
  let renewTimer: NodeJS.Timeout | undefined;
  let leaveTimer: NodeJS.Timeout | undefined;
  const planRenewal = (expiresInMs: bigint): void => {
    clearTimeout(renewTimer);
    if (expiresInMs === 0n || !features.has(Feature.tokenRenewal)) return;
    renewTimer = setTimeout(() => send(makeFrame("renew", { token: credential() })), Number(expiresInMs) * 0.75);
  };
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
        token: credential(),
        features: flags.has("--no-features") ? [] : [Feature.heartbeatRtt, Feature.tokenRenewal],
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
        features = new Set(body.value.features);
        planRenewal(body.value.tokenExpiresInMs);
        if (!flags.has("--no-heartbeats")) {
          heartbeat = setInterval(() => {
            const lastRttUs = features.has(Feature.heartbeatRtt) ? rttToReport : 0;
            rttToReport = 0;
            send(makeFrame("heartbeat", { seq: ++seq, sendTimeUs: BigInt(Math.round(performance.now() * 1000)), lastRttUs }));
          }, interval);
        }
        deadline = setInterval(() => {
          if (performance.now() - lastHeard > timeout) socket.destroy();
        }, 20);
      } else if (body.case === "heartbeatAck") {
        rttToReport = Math.max(1, Math.round(performance.now() * 1000 - Number(body.value.sendTimeUs)));
      } else if (body.case === "renewed") {
        planRenewal(body.value.tokenExpiresInMs);
      } else if (body.case === "error" && body.value.fatal) {
        if (PERMANENT.has(body.value.code)) permanent = body.value.code;
        // An expired credential is final only without a source of fresh ones.
        if (body.value.code === ErrorCode.TOKEN_EXPIRED && tokenFile === undefined) permanent = body.value.code;
        if (body.value.retryAfterMs > 0) notBefore = performance.now() + body.value.retryAfterMs;
        socket.destroy();
      } else if (body.case === "goAway") {
        const g = body.value;
        const delay = flags.has("--ignore-reconnect-delay") ? 0 : Math.min(g.reconnectDelayMs, g.drainMs || g.reconnectDelayMs);
        if (delay === 0) socket.destroy();
        else if (leaveTimer === undefined) {
          notBefore = performance.now() + delay;
          exact = true;
          leaveTimer = setTimeout(() => socket.destroy(), delay);
        }
      }
    });
    if (err !== undefined) socket.destroy();
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    clearInterval(heartbeat);
    clearInterval(deadline);
    clearTimeout(renewTimer);
    clearTimeout(leaveTimer);
    if (stopping) process.exit(0);
    if (permanent !== undefined) {
      console.error(`refused with ${ErrorCode[permanent]}: not reconnecting`);
      process.exit(1);
    }
    // Full-jitter backoff from 100 ms, capped at 2 s; the server's wait when it gave one.
    const jitter = 1 + Math.floor(Math.random() * Math.min(2000, 100 * 2 ** attempt++));
    const wait = Math.max(0, notBefore - performance.now());
    const delay = exact ? wait : Math.max(jitter, wait);
    notBefore = 0;
    exact = false;
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

#!/usr/bin/env node
// Generates the hb v1 conformance vectors in proto/testdata/ (see README.md).
//
//   cd packages/codec && npx tsup && cd ../.. && node proto/testdata/generate.mjs
//   node proto/testdata/generate.mjs --check   # exit 1 if the files on disk differ
//
// Deterministic: no clock, no randomness. The vectors are committed; rerunning
// must yield identical bytes. Every vector is verified against @hb/codec
// before anything is written.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import {
  Access,
  DEFAULT_MAX_FRAME_SIZE,
  DeliveryKind,
  ErrorCode,
  FrameDecoder,
  FrameEncoder,
  FrameSchema,
  OverflowPolicy,
  PresenceKind,
  Role,
  decodeFrame,
  decodeFrames,
  encodeFrame,
  errorCodeName,
  makeFrame,
} from "../../packages/codec/dist/index.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHECK = process.argv.includes("--check");

const U32_MAX = 4294967295;
const U64_MAX = 18446744073709551615n;

// ---------------------------------------------------------------------------
// Helpers

const utf8 = (s) => new TextEncoder().encode(s);

/** Bytes from a hex string; spaces and line breaks are ignored. */
function hex(s) {
  const clean = s.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Protobuf unsigned varint (numbers or bigints up to 2^64-1). */
function varint(value) {
  let v = BigInt(value);
  const out = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Wire form of raw Frame bytes: minimal varint length prefix + bytes. */
const prefixed = (body) => concat(varint(body.length), body);

/** Deterministic pseudo-random bytes (xorshift32), so payloads are not all alike. */
function pattern(length, seed = 1) {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Labels in canonical order: keys sorted by their UTF-8 bytes. Keys that look
 * like array indices are refused because JavaScript objects reorder them.
 */
function labels(entries) {
  const keys = Object.keys(entries);
  for (const k of keys) {
    if (/^(0|[1-9][0-9]*)$/.test(k)) throw new Error(`label key ${k} would be reordered by JS`);
  }
  keys.sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
  const out = {};
  for (const k of keys) out[k] = entries[k];
  return out;
}

const frameJson = (f) => toJson(FrameSchema, f);
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------------------
// Vector registry

/** @type {{dir: string, name: string, bytes: Uint8Array, json: object}[]} */
const vectors = [];

function add(dir, name, bytes, json) {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) throw new Error(`bad vector name ${name}`);
  if (vectors.some((v) => v.dir === dir && v.name === name)) throw new Error(`duplicate vector ${dir}/${name}`);
  vectors.push({ dir, name, bytes, json });
}

/** Fragment frames in a stream, reassembled in order of completion. */
function reassemble(frames) {
  const open = new Map();
  const done = [];
  for (const f of frames) {
    if (f.body.case !== "fragment") continue;
    const { id, totalLength, data, final } = f.body.value;
    let entry = open.get(id);
    if (entry === undefined) {
      if (totalLength === 0n) throw new Error(`fragment ${id}: first piece without total_length`);
      entry = { total: totalLength, parts: [] };
      open.set(id, entry);
    }
    entry.parts.push(data);
    if (final) {
      open.delete(id);
      const bytes = concat(...entry.parts);
      if (BigInt(bytes.length) !== entry.total) throw new Error(`fragment ${id}: length mismatch`);
      done.push(decodeFrame(bytes));
    }
  }
  if (open.size > 0) throw new Error("unfinished fragments");
  return done;
}

/**
 * A canonical vector: bytes are exactly what a conforming encoder writes for
 * the frame(s), and decoding the bytes yields the frame(s).
 */
function valid(name, description, frameOrFrames) {
  const multi = Array.isArray(frameOrFrames);
  const frames = multi ? frameOrFrames : [frameOrFrames];
  const enc = new FrameEncoder();
  for (const f of frames) enc.add(f);
  const bytes = enc.finish();
  const json = { description };
  if (multi) json.frames = frames.map(frameJson);
  else json.frame = frameJson(frames[0]);
  if (multi && frames.some((f) => f.body.case === "fragment")) json.reassembled = reassemble(frames).map(frameJson);

  // Self-checks: JSON → frames → bytes, and bytes → frames → JSON.
  const reEnc = new FrameEncoder();
  for (const j of multi ? json.frames : [json.frame]) reEnc.add(fromJson(FrameSchema, j));
  if (Buffer.compare(reEnc.finish(), bytes) !== 0) throw new Error(`${name}: JSON does not re-encode to the bytes`);
  const decoded = decodeFrames(bytes).map(frameJson);
  if (!sameJson(decoded, multi ? json.frames : [json.frame])) throw new Error(`${name}: bytes do not decode to the JSON`);
  add("valid", name, bytes, json);
}

/**
 * A non-canonical vector: valid input that a conforming decoder must accept,
 * though a conforming encoder would never write these bytes. Only the decode
 * direction is checked.
 */
function noncanonical(name, description, bytes, frameOrFrames) {
  const multi = Array.isArray(frameOrFrames);
  const frames = multi ? frameOrFrames : [frameOrFrames];
  const json = { description };
  if (multi) json.frames = frames.map(frameJson);
  else json.frame = frameJson(frames[0]);
  const decoded = decodeFrames(bytes).map(frameJson);
  if (!sameJson(decoded, frames.map(frameJson))) {
    throw new Error(`${name}: decodes to ${JSON.stringify(decoded)}, expected ${JSON.stringify(frames.map(frameJson))}`);
  }
  const canonical = new FrameEncoder();
  for (const f of frames) canonical.add(f);
  if (Buffer.compare(canonical.finish(), bytes) === 0) throw new Error(`${name}: bytes are canonical after all`);
  add("noncanonical", name, bytes, json);
}

/**
 * An invalid vector: decoding must fail with `error`.
 *
 * `tsCodecGap`: @hb/codec is known not to report `error` for this input yet
 * (mirrored by KNOWN_CODEC_GAPS in packages/codec/test/conformance-vectors.test.ts);
 * the vector is written anyway, because it is what the protocol requires.
 */
function invalid(name, description, bytes, error, { maxFrameSize, framesBefore = 0, tsCodecGap = false } = {}) {
  const json = { description, error };
  if (maxFrameSize !== undefined && maxFrameSize !== DEFAULT_MAX_FRAME_SIZE) json.maxFrameSize = maxFrameSize;
  if (framesBefore > 0) json.framesBefore = framesBefore;
  const options = maxFrameSize === undefined ? undefined : { maxFrameSize };
  let code;
  try {
    decodeFrames(bytes, options);
  } catch (err) {
    code = errorCodeName(err.code);
  }
  if (tsCodecGap) {
    if (code === error) throw new Error(`${name}: @hb/codec handles it now; drop tsCodecGap here and in the test`);
    console.warn(`note: ${name}: @hb/codec says ${code ?? "OK"}, the protocol requires ${error} (known gap)`);
    add("invalid", name, bytes, json);
    return;
  }
  if (code !== error) throw new Error(`${name}: expected ${error}, decoder says ${code ?? "OK"}`);
  // framesBefore: frames the streaming decoder delivers before the error.
  let delivered = 0;
  const d = new FrameDecoder(options);
  const err = d.push(bytes, () => delivered++) ?? d.end();
  if (err === undefined || errorCodeName(err.code) !== error) throw new Error(`${name}: streaming decoder disagrees`);
  if (delivered !== framesBefore) throw new Error(`${name}: ${delivered} frames before the error, expected ${framesBefore}`);
  add("invalid", name, bytes, json);
}

// ---------------------------------------------------------------------------
// Shared values

const F = makeFrame;
const RESUME_TOKEN = Uint8Array.from({ length: 16 }, (_, i) => i); // 00 01 .. 0f
const RESUME_TOKEN_2 = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
const SERVER_TIME = 1764000000000n; // 2025-11-24T16:00:00Z
const NODE_CJK = "节点-北京-001";
const NODE_EMOJI = "🚀-rocket-7";
/** Permissions with every field set (Welcome, §5.9). */
const PERMISSIONS = {
  publish: Access.RESTRICTED,
  publishAllow: ["metrics.sensor-42.>", "events.*"],
  publishDeny: ["events.admin"],
  subscribe: Access.RESTRICTED,
  subscribeAllow: ["config.>"],
  subscribeDeny: ["config.secrets.>"],
  send: Access.ALLOWED,
  broadcast: Access.DENIED,
  attach: Access.DENIED,
  presence: Access.RESTRICTED,
  presenceFilter: labels({ region: "eu-west" }),
};

// ---------------------------------------------------------------------------
// valid/: handshake and lifecycle

valid("hello-minimal", "Hello with only protocol_version 1: the server assigns the node id, default interval and frame size.", F("hello", { protocolVersion: 1 }));

valid(
  "hello-full",
  "Hello with every field set: node id, labels (one with an empty value), token, requested interval, resume token, will, client name, max frame size 1 MiB, two feature names (unknown to v1 servers, which ignore them), role NODE written explicitly.",
  F("hello", {
    protocolVersion: 1,
    nodeId: "sensor-42",
    labels: labels({ region: "eu-west", role: "sensor", empty: "" }),
    token: "s3cr3t-token",
    heartbeatIntervalMs: 5000,
    resumeToken: RESUME_TOKEN,
    will: { subject: "nodes.sensor-42.lost", payload: utf8("gone") },
    clientName: "hb-go/0.1.0",
    maxFrameSize: 1048576,
    features: ["x-example", "x-other"],
    role: Role.NODE,
  }),
);

valid(
  "hello-observer",
  "Hello of an observer (role OBSERVER, §5.7): a CLI that is not a node, with a server-assigned id, listing the features heartbeat-rtt and token-renewal.",
  F("hello", {
    protocolVersion: 1,
    token: "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    clientName: "hb-cli/1.0.0",
    features: ["heartbeat-rtt", "token-renewal"],
    role: Role.OBSERVER,
  }),
);

valid(
  "hello-unicode",
  "Hello with a CJK node id and labels whose keys and values use CJK and emoji (multi-byte UTF-8, including 4-byte sequences).",
  F("hello", {
    protocolVersion: 1,
    nodeId: NODE_CJK,
    labels: labels({ 区域: "华北", 机房: "亦庄-3", emoji: "🚀🛰️", "ключ": "значение" }),
    clientName: "hb-客户端/1.0",
  }),
);

valid(
  "hello-emoji-node-id",
  "Hello with a node id that starts with an emoji (4-byte UTF-8 sequence).",
  F("hello", { protocolVersion: 1, nodeId: NODE_EMOJI }),
);

{
  const maxLabels = {};
  for (let i = 0; i < 32; i++) {
    const key = `k${String(i).padStart(2, "0")}`.padEnd(64, "k");
    maxLabels[key] = String.fromCharCode(97 + (i % 26)).repeat(256);
  }
  valid(
    "hello-limits",
    "Hello at the documented limits: node id of exactly 128 bytes, 32 labels with 64-byte keys and 256-byte values.",
    F("hello", { protocolVersion: 1, nodeId: "n".repeat(127) + "Z", labels: labels(maxLabels) }),
  );
}

valid(
  "hello-uint32-max",
  "Hello with heartbeat_interval_ms = 4294967295 (max uint32, 5-byte varint); the server clamps it.",
  F("hello", { protocolVersion: 1, nodeId: "a", heartbeatIntervalMs: U32_MAX }),
);

valid(
  "welcome-full",
  "Welcome with every field set, as answering hello-full: fresh session, flow control window 64 KiB, 16 MiB max message, check interval 1 s, handshake timeout 10 s, role NODE, permissions of every kind, a credential valid for 1 h with a 30 s grace.",
  F("welcome", {
    nodeId: "sensor-42",
    sessionId: "3q2-7w-session",
    heartbeatIntervalMs: 5000,
    heartbeatTimeoutMs: 30000,
    maxFrameSize: 1048576,
    serverTimeMs: SERVER_TIME,
    resumeToken: RESUME_TOKEN_2,
    resumed: false,
    protocolVersion: 1,
    serverId: "hb-eu-1",
    initialWindow: 65536n,
    resumeGraceMs: 15000,
    maxMessageSize: 16777216n,
    features: ["x-example"],
    checkIntervalMs: 1000,
    handshakeTimeoutMs: 10000,
    role: Role.NODE,
    permissions: PERMISSIONS,
    tokenExpiresInMs: 3600000n,
    tokenGraceMs: 30000,
  }),
);

valid(
  "welcome-observer",
  "Welcome answering hello-observer: an assigned id, role OBSERVER, both features granted, broadcast denied and presence restricted to a label filter, a credential valid for 5 min with a 10 s grace.",
  F("welcome", {
    nodeId: "obs-5f1c2a",
    sessionId: "s-obs-1",
    heartbeatIntervalMs: 10000,
    heartbeatTimeoutMs: 30000,
    serverTimeMs: SERVER_TIME,
    resumeToken: RESUME_TOKEN,
    protocolVersion: 1,
    serverId: "hb-eu-1",
    features: ["heartbeat-rtt", "token-renewal"],
    checkIntervalMs: 1000,
    handshakeTimeoutMs: 10000,
    role: Role.OBSERVER,
    permissions: {
      publish: Access.DENIED,
      subscribe: Access.ALLOWED,
      send: Access.ALLOWED,
      broadcast: Access.DENIED,
      attach: Access.DENIED,
      presence: Access.RESTRICTED,
      presenceFilter: labels({ region: "eu-west" }),
    },
    tokenExpiresInMs: 300000n,
    tokenGraceMs: 10000,
  }),
);

valid(
  "welcome-resumed",
  "Welcome after a successful resume: resumed = true, same node and session id, a rotated resume token, no flow control (initial_window 0, omitted).",
  F("welcome", {
    nodeId: NODE_CJK,
    sessionId: "3q2-7w-session",
    heartbeatIntervalMs: 10000,
    heartbeatTimeoutMs: 30000,
    maxFrameSize: 1048576,
    serverTimeMs: SERVER_TIME + 20000n,
    resumeToken: RESUME_TOKEN,
    resumed: true,
    protocolVersion: 1,
    serverId: "hb-eu-1",
    resumeGraceMs: 60000,
  }),
);

valid(
  "welcome-edge-values",
  "Welcome with maximum values: uint32 fields at 4294967295, uint64 fields at 18446744073709551615 (10-byte varints). Wire-level edge case only.",
  F("welcome", {
    nodeId: "x",
    heartbeatIntervalMs: U32_MAX,
    heartbeatTimeoutMs: U32_MAX,
    maxFrameSize: U32_MAX,
    serverTimeMs: U64_MAX,
    protocolVersion: U32_MAX,
    initialWindow: U64_MAX,
    resumeGraceMs: U32_MAX,
    maxMessageSize: U64_MAX,
    checkIntervalMs: U32_MAX,
    handshakeTimeoutMs: U32_MAX,
    tokenExpiresInMs: U64_MAX,
    tokenGraceMs: U32_MAX,
  }),
);

valid(
  "error-fatal",
  "Fatal ProtocolError HEARTBEAT_TIMEOUT: the server closes the connection after it.",
  F("error", { code: ErrorCode.HEARTBEAT_TIMEOUT, message: "nothing heard for 30000 ms", fatal: true }),
);

valid(
  "error-nonfatal-ref",
  "Non-fatal ProtocolError INVALID_ARGUMENT answering Subscribe.request_id 7.",
  F("error", { code: ErrorCode.INVALID_ARGUMENT, message: "subject has an empty token", ref: 7n }),
);

valid(
  "error-on-channel",
  "Non-fatal ProtocolError UNKNOWN_CHANNEL sent on the channel it concerns (Frame.channel 9), ref 0.",
  F("error", { code: ErrorCode.UNKNOWN_CHANNEL, message: "no subscription 9" }, 9),
);

valid(
  "error-attached-timeout",
  "Non-fatal ProtocolError HEARTBEAT_TIMEOUT for attached node handle 3 (gateway mode); the handle is free again.",
  F("error", { code: ErrorCode.HEARTBEAT_TIMEOUT, ref: 3n }),
);

valid(
  "error-unknown-code",
  "ProtocolError with code 999, unknown to v1 (enums are open): kept as a number; canonical JSON writes it as 999.",
  F("error", { code: 999, message: "from a newer peer", fatal: true }),
);

valid(
  "error-unknown-node-target",
  "Non-fatal ProtocolError UNKNOWN_NODE answering a plain Send (ref 0, ref_body 17) and naming its target in node_id, for matching.",
  F("error", { code: ErrorCode.UNKNOWN_NODE, message: "node ghost-7 is not online", nodeId: "ghost-7", refBody: 17 }),
);

valid(
  "error-forbidden-send-request",
  "Non-fatal ProtocolError FORBIDDEN answering a Send request 77 (ref 77, ref_body 17) to the CJK node id.",
  F("error", { code: ErrorCode.FORBIDDEN, message: "may not send there", ref: 77n, nodeId: NODE_CJK, refBody: 17 }),
);

valid(
  "error-unsubscribe-channel-0",
  "Non-fatal ProtocolError UNKNOWN_CHANNEL answering an Unsubscribe on channel 0 (ref_body 15, Frame.channel 0).",
  F("error", { code: ErrorCode.UNKNOWN_CHANNEL, message: "channel 0 is not a subscription", refBody: 15 }),
);

valid(
  "error-server-full-retry-after",
  "Fatal ProtocolError SERVER_FULL on accept, telling the client not to try again for 2.5 s (retry_after_ms).",
  F("error", { code: ErrorCode.SERVER_FULL, message: "max connections reached", fatal: true, retryAfterMs: 2500 }),
);

valid(
  "error-token-expired",
  "Fatal ProtocolError TOKEN_EXPIRED: the credential expired and was not renewed within the grace (feature token-renewal).",
  F("error", { code: ErrorCode.TOKEN_EXPIRED, message: "credential expired", fatal: true }),
);

valid(
  "error-renew-refused",
  "Non-fatal ProtocolError UNAUTHORIZED refusing a Renew (ref 0, ref_body 24): the session goes on under the old credential.",
  F("error", { code: ErrorCode.UNAUTHORIZED, message: "token signature invalid", refBody: 24 }),
);

valid(
  "error-attached-duplicate-node",
  "Non-fatal ProtocolError DUPLICATE_NODE for attached handle 3 (ref_body 9), naming the attached node meter-0001.",
  F("error", { code: ErrorCode.DUPLICATE_NODE, ref: 3n, nodeId: "meter-0001", refBody: 9 }),
);

valid(
  "error-ref-max",
  "ProtocolError with ref = 18446744073709551615 (max uint64 request id).",
  F("error", { code: ErrorCode.FORBIDDEN, ref: U64_MAX }),
);

valid("goodbye", "Goodbye with a reason: graceful leave, no will.", F("goodbye", { reason: "maintenance" }));
valid("goodbye-empty", "Goodbye with no fields: the body is an empty message (bytes 2a 00).", F("goodbye", {}));

valid(
  "go-away",
  "GoAway SHUTTING_DOWN with a 30 s drain.",
  F("goAway", { code: ErrorCode.SHUTTING_DOWN, reason: "rolling restart", drainMs: 30000 }),
);

valid(
  "go-away-reconnect-delay",
  "GoAway SHUTTING_DOWN with a 30 s drain, telling this connection to leave (and reconnect at once) 12.345 s after it.",
  F("goAway", { code: ErrorCode.SHUTTING_DOWN, reason: "rolling restart", drainMs: 30000, reconnectDelayMs: 12345 }),
);

// ---------------------------------------------------------------------------
// valid/: liveness

valid("heartbeat-empty", "Heartbeat with all fields zero: the smallest frame, 3 bytes on the wire (02 3a 00).", F("heartbeat", {}));
valid("heartbeat", "Heartbeat seq 1 sent at 1 000 000 µs on the sender's monotonic clock.", F("heartbeat", { seq: 1n, sendTimeUs: 1000000n }));
valid(
  "heartbeat-max",
  "Heartbeat with seq and send_time_us at max uint64 and last_rtt_us at max uint32.",
  F("heartbeat", { seq: U64_MAX, sendTimeUs: U64_MAX, lastRttUs: U32_MAX }),
);
valid(
  "heartbeat-rtt",
  "Heartbeat seq 2 reporting the round trip of seq 1, 1.234 ms (last_rtt_us 1234; feature heartbeat-rtt).",
  F("heartbeat", { seq: 2n, sendTimeUs: 11000000n, lastRttUs: 1234 }),
);
valid(
  "heartbeat-ack",
  "HeartbeatAck echoing heartbeat (seq 1, send_time_us 1000000) with the server's wall clock.",
  F("heartbeatAck", { seq: 1n, sendTimeUs: 1000000n, serverTimeMs: SERVER_TIME }),
);
valid(
  "heartbeat-ack-max",
  "HeartbeatAck with every field at max uint64.",
  F("heartbeatAck", { seq: U64_MAX, sendTimeUs: U64_MAX, serverTimeMs: U64_MAX }),
);

// ---------------------------------------------------------------------------
// valid/: gateway mode

valid(
  "attach",
  "Attach handle 1 for node meter-0001 with labels and a will.",
  F("attach", {
    handle: 1,
    nodeId: "meter-0001",
    labels: labels({ building: "b7", kind: "meter" }),
    will: { subject: "meters.meter-0001.lost", payload: pattern(8, 7) },
  }),
);
valid(
  "attach-unicode-max-handle",
  "Attach with handle 4294967295 (max) and an emoji node id.",
  F("attach", { handle: U32_MAX, nodeId: NODE_EMOJI }),
);
valid("attached", "Attached confirming handle 1.", F("attached", { handle: 1, nodeId: "meter-0001" }));
valid(
  "detach",
  "Detach handles 1, 2, 300 and 4294967295 (packed varints).",
  F("detach", { handles: [1, 2, 300, U32_MAX] }),
);
valid(
  "batch-heartbeat",
  "BatchHeartbeat refreshing handles 1..200 and 4294967295 (one packed field).",
  F("batchHeartbeat", { handles: [...Array.from({ length: 200 }, (_, i) => i + 1), U32_MAX] }),
);
valid("batch-heartbeat-all", "BatchHeartbeat with all = true: refreshes the connection's node and every attached node.", F("batchHeartbeat", { all: true }));

// ---------------------------------------------------------------------------
// valid/: channels and routing

valid(
  "subscribe",
  "Subscribe to the wildcard subject config.*.> with DROP_NEWEST and a 100-message queue.",
  F("subscribe", { requestId: 1, subject: "config.*.>", overflow: OverflowPolicy.DROP_NEWEST, queueSize: 100 }),
);
valid(
  "subscribe-presence",
  "Subscribe to $hb.presence for nodes labelled role=sensor and region=华北, with a snapshot of those already online, DISCONNECT on overflow.",
  F("subscribe", {
    requestId: 2,
    subject: "$hb.presence",
    labelFilter: labels({ role: "sensor", region: "华北" }),
    overflow: OverflowPolicy.DISCONNECT,
    snapshot: true,
  }),
);
valid(
  "subscribe-presence-undamped",
  "Subscribe to $hb.presence with undamped = true: every transition of a flapping node as it happens.",
  F("subscribe", { requestId: 3, subject: "$hb.presence", undamped: true }),
);
valid("subscribed", "Subscribed: request 1 got channel 1.", F("subscribed", { requestId: 1, channel: 1, subject: "config.*.>" }));
valid(
  "subscribed-max-channel",
  "Subscribed assigning the largest channel number, 4294967295.",
  F("subscribed", { requestId: U32_MAX, channel: U32_MAX, subject: "$hb.presence" }),
);
valid("unsubscribe", "Unsubscribe channel 7: the channel travels in Frame.channel, the body is empty.", F("unsubscribe", {}, 7));

valid(
  "publish",
  "Publish a small payload to config.eu.fr.",
  F("publish", { subject: "config.eu.fr", payload: utf8('{"rate":5}') }),
);
valid(
  "publish-by-channel",
  "Publish on the exact subscription of channel 3 (subject empty, Frame.channel 3).",
  F("publish", { payload: utf8("on channel 3") }, 3),
);
valid(
  "publish-request-gateway",
  "Publish as a request (request_id max uint64) on behalf of attached handle 12.",
  F("publish", { subject: "svc.time", payload: utf8("now?"), requestId: U64_MAX, fromHandle: 12 }),
);
valid("publish-empty-payload", "Publish with an empty payload (the payload field is omitted).", F("publish", { subject: "ping" }));
valid(
  "publish-64k",
  "Publish with a 65536-byte payload (3-byte inner length varint).",
  F("publish", { subject: "blobs.upload", payload: pattern(65536, 42) }),
);
valid(
  "send",
  "Send a payload to the CJK node id 节点-北京-001.",
  F("send", { nodeId: NODE_CJK, payload: utf8("你好") }),
);
valid(
  "send-request-gateway",
  "Send as a request (request_id 77) from attached handle 5 to an emoji node id.",
  F("send", { nodeId: NODE_EMOJI, payload: pattern(32, 5), requestId: 77n, fromHandle: 5 }),
);
valid("broadcast", "Broadcast a payload from the connection's own node.", F("broadcast", { payload: utf8("reload") }));
valid("broadcast-gateway", "Broadcast on behalf of attached handle 9.", F("broadcast", { payload: utf8("reload"), fromHandle: 9 }));
valid(
  "delivery-publish",
  "Delivery of a publish on channel 1, from node sensor-42.",
  F("delivery", { kind: DeliveryKind.PUBLISH, subject: "config.eu.fr", fromNodeId: "sensor-42", payload: utf8('{"rate":5}') }, 1),
);
valid(
  "delivery-publish-max-channel",
  "Delivery on channel 4294967295 carrying a request (request_id 1) with an empty payload.",
  F("delivery", { kind: DeliveryKind.PUBLISH, subject: "svc.time", fromNodeId: "a", requestId: 1n }, U32_MAX),
);
valid(
  "delivery-direct-gateway",
  "Direct delivery (Send) for attached node meter-0001 of a gateway connection, as a request.",
  F("delivery", { kind: DeliveryKind.DIRECT, fromNodeId: NODE_CJK, payload: utf8("read"), requestId: 77n, toNodeId: "meter-0001" }),
);
valid(
  "delivery-broadcast-from-server",
  "Broadcast delivery sent by the server itself (from_node_id empty).",
  F("delivery", { kind: DeliveryKind.BROADCAST, payload: utf8("reload") }),
);
valid(
  "reply",
  "Reply from a client to requester sensor-42 for request 77.",
  F("reply", { nodeId: "sensor-42", requestId: 77n, payload: utf8("2025-11-24T16:00:00Z") }),
);
valid(
  "reply-error",
  "Reply from the server: request 78 failed with UNKNOWN_NODE.",
  F("reply", { nodeId: "ghost", requestId: 78n, errorCode: ErrorCode.UNKNOWN_NODE, errorMessage: "node ghost is not online" }),
);
valid(
  "reply-gateway",
  "Reply on behalf of attached handle 4294967295 to request max uint64.",
  F("reply", { nodeId: NODE_EMOJI, requestId: U64_MAX, payload: pattern(4, 9), fromHandle: U32_MAX }),
);

// ---------------------------------------------------------------------------
// valid/: presence

const presence = (name, description, kind, reason, extra = {}) =>
  valid(
    name,
    description,
    F(
      "presence",
      {
        kind,
        nodeId: "sensor-42",
        labels: labels({ role: "sensor", region: "eu-west" }),
        timeMs: SERVER_TIME,
        reason,
        serverId: "hb-eu-1",
        ...extra,
      },
      4,
    ),
  );
presence("presence-joined", "PresenceEvent JOINED reason hello on presence channel 4.", PresenceKind.JOINED, "hello");
presence("presence-left-goodbye", "PresenceEvent LEFT reason goodbye.", PresenceKind.LEFT, "goodbye");
presence("presence-left-replaced", "PresenceEvent LEFT reason replaced (a newer connection took the node id).", PresenceKind.LEFT, "replaced");
presence(
  "presence-left-server-shutdown",
  "PresenceEvent LEFT reason server_shutdown, with CJK node id and labels.",
  PresenceKind.LEFT,
  "server_shutdown",
  { nodeId: NODE_CJK, labels: labels({ 区域: "华北" }) },
);
presence("presence-suspect", "PresenceEvent SUSPECT reason heartbeat_missed.", PresenceKind.SUSPECT, "heartbeat_missed");
presence("presence-timed-out", "PresenceEvent TIMED_OUT reason heartbeat_timeout.", PresenceKind.TIMED_OUT, "heartbeat_timeout");
presence("presence-recovered", "PresenceEvent RECOVERED reason heartbeat (the suspect node was heard from again).", PresenceKind.RECOVERED, "heartbeat");
presence("presence-joined-labels-changed", "PresenceEvent JOINED labels_changed: the node's new labels now match this subscription's filter.", PresenceKind.JOINED, "labels_changed");
presence("presence-left-labels-changed", "PresenceEvent LEFT labels_changed: the node's new labels (carried) no longer match this subscription's filter; it is still online.", PresenceKind.LEFT, "labels_changed", { labels: labels({ role: "sensor", region: "us-east" }) });
presence("presence-updated", "PresenceEvent UPDATED labels_changed (kind 6): the node stays online and matched, with new labels.", PresenceKind.UPDATED, "labels_changed");
presence("presence-suspect-server-lagging", "PresenceEvent SUSPECT server_lagging: the node reached its timeout while the server was lagging; the verdict and the will are held.", PresenceKind.SUSPECT, "server_lagging");
presence("presence-suspect-mass-silence", "PresenceEvent SUSPECT mass_silence: the mass-departure brake holds the node's timeout.", PresenceKind.SUSPECT, "mass_silence");
presence("presence-suspect-flapping", "PresenceEvent SUSPECT flapping: flap damping of the node starts for this subscription.", PresenceKind.SUSPECT, "flapping");
presence("presence-recovered-flap-ended", "PresenceEvent RECOVERED flap_ended: damping ended and the node is online.", PresenceKind.RECOVERED, "flap_ended");
presence("presence-timed-out-server-lost", "PresenceEvent TIMED_OUT server_lost: the server holding the node is gone (no will).", PresenceKind.TIMED_OUT, "server_lost", { serverId: "hb-eu-2" });
presence("presence-joined-resync", "PresenceEvent JOINED resync: a bus link caught up after an outage and states the node is online.", PresenceKind.JOINED, "resync");
presence(
  "presence-recovered-resumed",
  "PresenceEvent RECOVERED reason resumed, for an attached node of a gateway, with empty labels (field omitted).",
  PresenceKind.RECOVERED,
  "resumed",
  { nodeId: "meter-0001", labels: {} },
);

// ---------------------------------------------------------------------------
// valid/: transport

valid(
  "fragment-first",
  "First Fragment of id 1: total_length announces the 3000-byte reassembled frame.",
  F("fragment", { id: 1, totalLength: 3000n, data: pattern(1000, 11) }),
);
valid(
  "fragment-final",
  "Last Fragment of id 1 (final = true, total_length omitted).",
  F("fragment", { id: 1, data: pattern(1000, 12), final: true }),
);
valid("renew", "Renew presenting a fresh credential on a live connection (feature token-renewal).", F("renew", { token: "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjQwMDM2MDB9.c2ln" }));
valid(
  "renewed",
  "Renewed: the new credential is valid for 1 h; the permissions change (broadcast now allowed, publish restricted).",
  F("renewed", {
    tokenExpiresInMs: 3600000n,
    permissions: { publish: Access.RESTRICTED, publishAllow: ["metrics.>"], broadcast: Access.ALLOWED },
  }),
);
valid("renewed-no-expiry", "Renewed with a credential that does not expire (token_expires_in_ms 0) and unchanged permissions: an empty body.", F("renewed", {}));
valid("window-update", "WindowUpdate granting 65536 more payload bytes on the connection.", F("windowUpdate", { credit: 65536n }));
valid("window-update-max", "WindowUpdate with credit max uint64.", F("windowUpdate", { credit: U64_MAX }));

// ---------------------------------------------------------------------------
// valid/: streams (several frames back to back)

valid("stream-empty", "An empty stream: zero bytes, zero frames.", []);

valid(
  "stream-client-session",
  "What a client writes in a short session: Hello, Heartbeat, Subscribe, Publish, Heartbeat, Unsubscribe, Goodbye.",
  [
    F("hello", { protocolVersion: 1, nodeId: "sensor-42", labels: labels({ role: "sensor" }) }),
    F("heartbeat", { seq: 1n, sendTimeUs: 1000000n }),
    F("subscribe", { requestId: 1, subject: "config.eu.>" }),
    F("publish", { subject: "metrics.sensor-42", payload: pattern(16, 3) }),
    F("heartbeat", { seq: 2n, sendTimeUs: 6000123n }),
    F("unsubscribe", {}, 1),
    F("goodbye", { reason: "done" }),
  ],
);

valid(
  "stream-server-session",
  "What a server writes in the same session: Welcome, HeartbeatAck, Subscribed, Delivery, HeartbeatAck, GoAway.",
  [
    F("welcome", {
      nodeId: "sensor-42",
      sessionId: "s-1",
      heartbeatIntervalMs: 5000,
      heartbeatTimeoutMs: 30000,
      maxFrameSize: 1048576,
      serverTimeMs: SERVER_TIME,
      resumeToken: RESUME_TOKEN,
      protocolVersion: 1,
      serverId: "hb-eu-1",
    }),
    F("heartbeatAck", { seq: 1n, sendTimeUs: 1000000n, serverTimeMs: SERVER_TIME + 1n }),
    F("subscribed", { requestId: 1, channel: 1, subject: "config.eu.>" }),
    F("delivery", { kind: DeliveryKind.PUBLISH, subject: "config.eu.fr", fromNodeId: "admin", payload: utf8('{"rate":5}') }, 1),
    F("heartbeatAck", { seq: 2n, sendTimeUs: 6000123n, serverTimeMs: SERVER_TIME + 5001n }),
    F("goAway", { code: ErrorCode.SHUTTING_DOWN, drainMs: 10000 }),
  ],
);

{
  // Two fragmented frames (ids 7 and 8) interleaved with each other and with
  // a heartbeat. Id 8 carries a Publish on channel 5, so its fragments carry
  // Frame.channel 5 too.
  const big = create(FrameSchema, { body: { case: "publish", value: { subject: "files.upload", payload: pattern(2500, 21) } } });
  const onChannel = create(FrameSchema, { channel: 5, body: { case: "publish", value: { payload: pattern(1500, 22) } } });
  const a = toBinary(FrameSchema, big);
  const b = toBinary(FrameSchema, onChannel);
  const cut = (bytes, size) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  const [a0, a1, a2] = cut(a, 1024);
  const [b0, b1] = cut(b, 1024);
  if (a2 === undefined || b1 === undefined) throw new Error("fragment split changed");
  valid(
    "stream-fragments-interleaved",
    "Two fragmented Publish frames, id 7 (2500-byte payload, 3 pieces) and id 8 (on channel 5, 2 pieces), interleaved with each other and a Heartbeat. 'reassembled' lists the frames the receiver obtains, in order of completion (id 8 first).",
    [
      F("fragment", { id: 7, totalLength: BigInt(a.length), data: a0 }),
      F("heartbeat", { seq: 9n, sendTimeUs: 9000000n }),
      F("fragment", { id: 8, totalLength: BigInt(b.length), data: b0 }, 5),
      F("fragment", { id: 7, data: a1 }),
      F("fragment", { id: 8, data: b1, final: true }, 5),
      F("fragment", { id: 7, data: a2, final: true }),
    ],
  );
}

// ---------------------------------------------------------------------------
// noncanonical/: valid input no conforming encoder writes

const HB = F("heartbeat", {}); // wire: 02 3a 00
const HB1 = F("heartbeat", { seq: 1n }); // wire: 04 3a 02 08 01

noncanonical(
  "prefix-non-minimal",
  "Length prefix 2 written with 5 bytes (82 80 80 80 00): receivers accept non-minimal prefixes of up to 5 bytes.",
  hex("82 80 80 80 00  3a 00"),
  HB,
);
noncanonical(
  "prefix-non-minimal-zero-padding",
  "Length prefix 4 written as 84 00, then a Heartbeat seq 1.",
  hex("84 00  3a 02 08 01"),
  HB1,
);
noncanonical(
  "unknown-fields-in-frame",
  "Heartbeat body plus unknown Frame fields of every wire type (varint field 100, fixed64 field 101, length-delimited field 102, fixed32 field 103): ignored.",
  prefixed(hex("a0 06 2a  a9 06 01 02 03 04 05 06 07 08  b2 06 03 61 62 63  bd 06 01 02 03 04  3a 02 08 01")),
  HB1,
);
noncanonical(
  "unknown-fields-in-body",
  "Heartbeat seq 1 with unknown fields 15 (varint) and 16 (length-delimited) inside the body: ignored.",
  prefixed(hex("3a 08  08 01  78 05  82 01 01 ff")),
  HB1,
);
noncanonical(
  "unknown-group-skipped",
  "An unknown field 99 encoded as a group (start 9b 06, a nested varint, end 9c 06) before the body: skipped.",
  prefixed(hex("9b 06 08 01 9c 06  3a 02 08 01")),
  HB1,
);
{
  const groups = (k) => [...Array(k).fill("9b 06"), ...Array(k).fill("9c 06")].join(" ");
  noncanonical(
    "nesting-99-unknown-groups",
    "99 unknown groups (field 99) nested inside each other before an empty heartbeat body: 100 levels counting the Frame, the most allowed (§3.4).",
    prefixed(hex(`${groups(99)} 3a 00`)),
    F("heartbeat", {}),
  );
  invalid(
    "malformed-nesting-100-unknown-groups",
    "100 nested unknown groups before a heartbeat body: 101 levels counting the Frame, one more than allowed (§3.4).",
    prefixed(hex(`${groups(100)} 3a 00`)),
    "MALFORMED_FRAME",
  );
}
noncanonical(
  "unknown-body-field-before-known-body",
  "Unknown Frame field 536870911 (the largest field number, never a v1 body; tag fa ff ff ff 0f), then a known body: the unknown field is ignored, the heartbeat is the body.",
  prefixed(hex("fa ff ff ff 0f 02 08 01  3a 02 08 01")),
  HB1,
);
noncanonical(
  "fields-out-of-order",
  "Frame.channel after the body and Heartbeat.send_time_us before seq: field order does not matter.",
  prefixed(hex("3a 04 10 02 08 01  08 05")),
  F("heartbeat", { seq: 1n, sendTimeUs: 2n }, 5),
);
noncanonical(
  "explicit-default-values",
  "Frame.channel 0 and Heartbeat.seq 0 written explicitly: same as omitted.",
  prefixed(hex("08 00  3a 02 08 00")),
  HB,
);
noncanonical(
  "scalar-repeated-last-wins",
  "Frame.channel written twice (1, then 2): the last value wins.",
  prefixed(hex("08 01 08 02  3a 00")),
  F("heartbeat", {}, 2),
);
noncanonical(
  "two-bodies-last-wins",
  "Two different bodies (heartbeat, then goodbye): protobuf oneof semantics, the last one wins. Senders must never do this.",
  prefixed(hex("3a 02 08 01  2a 00")),
  F("goodbye", {}),
);
noncanonical(
  "same-body-twice-merged",
  "The heartbeat body twice (seq 1, then send_time_us 2): the two messages are merged.",
  prefixed(hex("3a 02 08 01  3a 02 10 02")),
  F("heartbeat", { seq: 1n, sendTimeUs: 2n }),
);
noncanonical(
  "repeated-unpacked",
  "BatchHeartbeat.handles 1, 2, 3 written unpacked (one tag per element): accepted like packed.",
  prefixed(hex("62 06  08 01 08 02 08 03")),
  F("batchHeartbeat", { handles: [1, 2, 3] }),
);
noncanonical(
  "repeated-mixed-packed-unpacked",
  "Detach.handles as a packed run (1, 2) followed by an unpacked element (3): concatenated in order.",
  prefixed(hex("5a 06  0a 02 01 02  08 03")),
  F("detach", { handles: [1, 2, 3] }),
);
noncanonical(
  "map-duplicate-key-last-wins",
  "Hello.labels with key \"a\" twice (values \"1\" then \"2\"): the last entry wins.",
  prefixed(hex("12 10  1a 06 0a 01 61 12 01 31  1a 06 0a 01 61 12 01 32")),
  F("hello", { labels: { a: "2" } }),
);
noncanonical(
  "map-entry-value-before-key",
  "Hello.labels entry with the value field before the key field.",
  prefixed(hex("12 08  1a 06 12 01 31 0a 01 61")),
  F("hello", { labels: { a: "1" } }),
);
noncanonical(
  "varint-overlong-in-body",
  "Heartbeat.seq 1 written as a 10-byte varint (81 80 80 80 80 80 80 80 80 00).",
  prefixed(hex("3a 0b 08 81 80 80 80 80 80 80 80 80 00")),
  HB1,
);
noncanonical(
  "uint32-from-64-bit-varint",
  "Frame.channel written as 2^32 + 5 (a 5-byte varint beyond 32 bits): truncated to the low 32 bits, 5.",
  prefixed(hex("08 85 80 80 80 10  3a 00")),
  F("heartbeat", {}, 5),
);
noncanonical(
  "bool-non-one",
  "ProtocolError.fatal written as varint 2: any non-zero value is true.",
  prefixed(hex("22 02 20 02")),
  F("error", { fatal: true }),
);

// ---------------------------------------------------------------------------
// invalid/: BAD_VARINT

const HB_WIRE = encodeFrame(HB1); // 04 3a 02 08 01

invalid(
  "bad-varint-continuation-on-5th-byte",
  "Length prefix whose 5th byte still has the continuation bit (80 80 80 80 80 01): longer than 5 bytes.",
  hex("80 80 80 80 80 01"),
  "BAD_VARINT",
);
invalid(
  "bad-varint-5th-byte-above-0f",
  "Length prefix whose 5th byte is 0x10: the value would not fit in 32 bits. Bytes 1-4 are 0x80 (value 0) so the size check never fires first.",
  hex("80 80 80 80 10"),
  "BAD_VARINT",
);
invalid(
  "bad-varint-after-valid-frame",
  "A valid Heartbeat frame, then a 6-byte length prefix: one frame is delivered before the error.",
  concat(HB_WIRE, hex("80 80 80 80 80 00")),
  "BAD_VARINT",
  { framesBefore: 1 },
);
invalid(
  "bad-varint-with-max-frame-size-limit",
  "With maxFrameSize 67108864 (64 MiB, the largest allowed), prefix ff ff ff 9f 10: the value after 4 bytes is 67108863 (within the limit), then the 5th byte 0x10 is above 0x0f.",
  hex("ff ff ff 9f 10"),
  "BAD_VARINT",
  { maxFrameSize: 67108864 },
);

// ---------------------------------------------------------------------------
// invalid/: FRAME_TOO_LARGE

invalid(
  "frame-too-large-default",
  "Length prefix 1048577 (81 80 40), one byte over the default 1 MiB; no body follows. Rejected on the prefix, not as TRUNCATED.",
  hex("81 80 40"),
  "FRAME_TOO_LARGE",
);
invalid(
  "frame-too-large-4gb",
  "Length prefix 4294967295 (ff ff ff ff 0f). Rejected at the 3rd prefix byte, when the value so far (2097151) already exceeds 1 MiB.",
  hex("ff ff ff ff 0f"),
  "FRAME_TOO_LARGE",
);
invalid(
  "frame-too-large-4gb-zero-padded",
  "Length prefix 80 80 80 80 0f = 4026531840: the value stays 0 for 4 bytes, the 5th byte (0x0f, allowed) makes it too large.",
  hex("80 80 80 80 0f"),
  "FRAME_TOO_LARGE",
);
invalid(
  "frame-too-large-before-bad-varint",
  "Prefix ff ff ff ff 1f: the size check fires at byte 3, before the 5th-byte check could report BAD_VARINT. Pins the order of the per-byte checks.",
  hex("ff ff ff ff 1f"),
  "FRAME_TOO_LARGE",
);
invalid(
  "frame-too-large-incomplete-prefix",
  "The stream ends after ff ff ff, inside the prefix; the value so far already exceeds 1 MiB, so the error is FRAME_TOO_LARGE, not TRUNCATED.",
  hex("ff ff ff"),
  "FRAME_TOO_LARGE",
);
{
  const sixteen = encodeFrame(F("publish", { subject: "a", payload: pattern(8, 1) })); // body 16 bytes
  const seventeen = encodeFrame(F("publish", { subject: "a", payload: pattern(9, 1) })); // body 17 bytes
  if (sixteen[0] !== 16 || seventeen[0] !== 17) throw new Error("size setup changed");
  invalid(
    "frame-too-large-custom-max",
    "maxFrameSize 16: a frame of exactly 16 bytes is accepted, the next one of 17 bytes is rejected on its prefix (0x11).",
    concat(sixteen, seventeen),
    "FRAME_TOO_LARGE",
    { maxFrameSize: 16, framesBefore: 1 },
  );
}

// ---------------------------------------------------------------------------
// invalid/: MALFORMED_FRAME

invalid("malformed-wire-type-7", "Frame bytes 0f 00: tag with wire type 7, which does not exist.", prefixed(hex("0f 00")), "MALFORMED_FRAME");
invalid("malformed-wire-type-6", "Frame bytes 0e 00 3a 00: tag with wire type 6, which does not exist.", prefixed(hex("0e 00 3a 00")), "MALFORMED_FRAME");
invalid(
  "malformed-wire-type-mismatch-body",
  "Frame.heartbeat (a message, wire type 2) sent with wire type 0 (38 01). A known field with a wire type its type cannot have is malformed.",
  prefixed(hex("38 01")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-wire-type-mismatch-body-then-body",
  "Frame.heartbeat sent as a varint (38 01), then a valid goodbye body (2a 00). Plain protobuf libraries differ here (Go keeps 38 01 as an unknown field and yields goodbye; protobuf-es reads a heartbeat); hb requires MALFORMED_FRAME.",
  prefixed(hex("38 01 2a 00")),
  "MALFORMED_FRAME",
  {},
);
invalid(
  "malformed-wire-type-mismatch-channel",
  "Frame.channel (uint32, wire type 0) sent length-delimited (0a 00), then a heartbeat body.",
  prefixed(hex("0a 00 3a 00")),
  "MALFORMED_FRAME",
  {},
);
invalid(
  "malformed-wire-type-mismatch-fixed32",
  "Frame.channel sent as fixed32 (0d 01 00 00 00), then a heartbeat body.",
  prefixed(hex("0d 01 00 00 00 3a 00")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-wire-type-mismatch-in-body",
  "Heartbeat.seq (uint64) sent as fixed64 inside the heartbeat body: the check applies at every nesting level.",
  prefixed(hex("3a 09 09 01 00 00 00 00 00 00 00")),
  "MALFORMED_FRAME",
);
invalid("malformed-field-number-0", "Tag 00 (field number 0 is never valid), then a body.", prefixed(hex("00 00 3a 00")), "MALFORMED_FRAME");
invalid("malformed-end-group-without-start", "An end-group tag (0c: field 1, wire type 4) with no matching start group.", prefixed(hex("0c 3a 00")), "MALFORMED_FRAME");
invalid("malformed-group-mismatched-end", "Unknown group field 99 closed by the end tag of field 100.", prefixed(hex("9b 06 a4 06 3a 00")), "MALFORMED_FRAME");
invalid(
  "malformed-truncated-inner-field",
  "The hello field announces 10 bytes but the frame holds only 2 of them.",
  prefixed(hex("12 0a 08 01")),
  "MALFORMED_FRAME",
);
invalid("malformed-truncated-varint", "Frame ends right after the channel tag (08), before its value.", prefixed(hex("3a 00 08")), "MALFORMED_FRAME");
invalid("malformed-truncated-varint-continuation", "Frame ends inside a varint value (08 80).", prefixed(hex("3a 00 08 80")), "MALFORMED_FRAME");
invalid(
  "malformed-varint-11-bytes",
  "Heartbeat.seq written as an 11-byte varint: longer than the 10-byte maximum.",
  prefixed(hex("3a 0c 08 ff ff ff ff ff ff ff ff ff ff 01")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-packed-truncated",
  "BatchHeartbeat packed handles whose last varint is cut off by the field's length (0a 02 01 80).",
  prefixed(hex("62 04 0a 02 01 80")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-invalid-utf8-node-id",
  "Hello.node_id bytes c3 28: not valid UTF-8.",
  prefixed(hex("12 06 08 01 12 02 c3 28")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-invalid-utf8-label-key",
  "Hello.labels key bytes ff fe: not valid UTF-8 (strings inside map entries are checked too).",
  prefixed(hex("12 08 1a 06 0a 02 ff fe 12 00")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-utf8-surrogate",
  "Publish.subject bytes ed a0 80: an encoded UTF-16 surrogate (U+D800), not valid UTF-8.",
  prefixed(hex("82 01 05 0a 03 ed a0 80")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-utf8-overlong",
  "PresenceEvent.reason bytes c0 af: an overlong encoding of '/', not valid UTF-8.",
  prefixed(hex("aa 01 04 2a 02 c0 af")),
  "MALFORMED_FRAME",
);
invalid(
  "malformed-after-valid-frame",
  "A valid Heartbeat, then a frame with wire type 7: one frame is delivered before the error.",
  concat(HB_WIRE, prefixed(hex("0f 00"))),
  "MALFORMED_FRAME",
  { framesBefore: 1 },
);

// ---------------------------------------------------------------------------
// invalid/: EMPTY_FRAME

invalid("empty-zero-length", "A length prefix of 0: a frame with no bytes has no body.", hex("00"), "EMPTY_FRAME");
invalid("empty-zero-length-non-minimal", "Length 0 written as 80 00 (non-minimal prefix): still an empty frame.", hex("80 00"), "EMPTY_FRAME");
invalid("empty-only-channel", "Frame with channel 5 and no body.", prefixed(hex("08 05")), "EMPTY_FRAME");
invalid("empty-only-unknown-field", "Frame with only an unknown varint field 99.", prefixed(hex("98 06 01")), "EMPTY_FRAME");
invalid(
  "empty-unknown-body",
  "Frame with only field 536870911 (tag fa ff ff ff 0f, the largest field number), length-delimited and empty, as a body a later version might add: unknown, so no body.",
  prefixed(hex("fa ff ff ff 0f 00")),
  "EMPTY_FRAME",
);
invalid(
  "empty-after-valid-frame",
  "A valid Heartbeat, then a zero-length frame: one frame is delivered before the error.",
  concat(HB_WIRE, hex("00")),
  "EMPTY_FRAME",
  { framesBefore: 1 },
);

// ---------------------------------------------------------------------------
// invalid/: TRUNCATED

invalid("truncated-in-prefix", "The stream ends after 80, inside a length prefix.", hex("80"), "TRUNCATED");
invalid(
  "truncated-in-prefix-after-frame",
  "A valid Heartbeat, then the stream ends inside the next prefix (a0).",
  concat(HB_WIRE, hex("a0")),
  "TRUNCATED",
  { framesBefore: 1 },
);
invalid("truncated-prefix-only", "A complete prefix (4) and no body bytes.", hex("04"), "TRUNCATED");
invalid("truncated-in-body", "Prefix 4, then only 2 of the 4 body bytes (3a 02).", hex("04 3a 02"), "TRUNCATED");
{
  const big = encodeFrame(F("publish", { subject: "blobs.upload", payload: pattern(65536, 42) }));
  invalid(
    "truncated-in-body-64k",
    "The publish-64k frame cut in half: the stream ends 32 KiB into its body.",
    big.subarray(0, 32768),
    "TRUNCATED",
  );
}

// ---------------------------------------------------------------------------
// Output

const DIRS = ["valid", "noncanonical", "invalid"];
const files = new Map(); // relative path -> bytes
const manifest = {
  description:
    "hb v1 conformance vectors. See README.md. Paths are relative to this file; sha256 is of the .bin file.",
  protocolVersion: 1,
  defaultMaxFrameSize: DEFAULT_MAX_FRAME_SIZE,
};
for (const dir of DIRS) {
  manifest[dir] = [];
  for (const v of vectors.filter((x) => x.dir === dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const bin = `${dir}/${v.name}.bin`;
    const json = `${dir}/${v.name}.json`;
    files.set(bin, v.bytes);
    files.set(json, utf8(`${JSON.stringify(v.json, null, 2)}\n`));
    manifest[dir].push({
      name: v.name,
      bin,
      json,
      size: v.bytes.length,
      sha256: createHash("sha256").update(v.bytes).digest("hex"),
    });
  }
}
files.set("manifest.json", utf8(`${JSON.stringify(manifest, null, 2)}\n`));

if (CHECK) {
  const problems = [];
  for (const [rel, bytes] of files) {
    let onDisk;
    try {
      onDisk = readFileSync(join(HERE, rel));
    } catch {
      problems.push(`missing ${rel}`);
      continue;
    }
    if (Buffer.compare(onDisk, bytes) !== 0) problems.push(`differs ${rel}`);
  }
  for (const dir of DIRS) {
    let names = [];
    try {
      names = readdirSync(join(HERE, dir));
    } catch {}
    for (const n of names) if (!files.has(`${dir}/${n}`)) problems.push(`stale ${dir}/${n}`);
  }
  if (problems.length > 0) {
    console.error(`conformance vectors are out of date (run node proto/testdata/generate.mjs):\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`conformance vectors up to date (${vectors.length} vectors)`);
} else {
  for (const dir of DIRS) {
    rmSync(join(HERE, dir), { recursive: true, force: true });
    mkdirSync(join(HERE, dir), { recursive: true });
  }
  for (const [rel, bytes] of files) writeFileSync(join(HERE, rel), bytes);
  const count = (d) => vectors.filter((v) => v.dir === d).length;
  console.log(
    `wrote ${vectors.length} vectors: ${count("valid")} valid, ${count("noncanonical")} noncanonical, ${count("invalid")} invalid`,
  );
}

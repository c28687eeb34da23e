// Codec benchmark: `pnpm bench` (builds @hb/codec, then runs this file).
// Prints encode/decode frames per second for a heartbeat frame and a frame
// with a 100-byte payload, streaming decode throughput in MB/s, and the same
// operations with a plain JSON encoding of the same frames, in one run.
import os from "node:os";
import { Bench } from "tinybench";
import { fromBinary } from "@bufbuild/protobuf";
import { FrameDecoder, FrameEncoder, FrameSchema, decodeFrame, encodeFrame, makeFrame } from "../dist/index.js";

const time = Number(process.env.BENCH_TIME_MS ?? 1000);
const payload = new Uint8Array(100).map((_, i) => i);
const heartbeat = makeFrame("heartbeat", { seq: 123456n, sendTimeUs: 1_700_000_000_000_000n });
const data = makeFrame("publish", { subject: "config.eu.fr", payload }, 7);

// Plain JSON equivalents: the same fields, payload as base64, newline-delimited.
const heartbeatJson = { channel: 0, heartbeat: { seq: "123456", sendTimeUs: "1700000000000000000" } };
const dataJson = { channel: 7, publish: { subject: "config.eu.fr", payload: Buffer.from(payload).toString("base64") } };
const toJsonBytes = (o) => Buffer.from(`${JSON.stringify(o)}\n`);
const fromJsonBytes = (b) => {
  const o = JSON.parse(b.toString());
  if (o.publish) o.publish.payload = Buffer.from(o.publish.payload, "base64");
  return o;
};

const hbWire = encodeFrame(heartbeat);
const dataWire = encodeFrame(data);
const hbBody = hbWire.subarray(1);
const dataBody = dataWire.subarray(1);
const hbJsonWire = toJsonBytes(heartbeatJson);
const dataJsonWire = toJsonBytes(dataJson);

// Streaming input: 4 MiB of 100-byte data frames, delivered in 64 KiB chunks.
const STREAM_FRAMES = Math.floor((4 * 1024 * 1024) / dataWire.length);
const enc = new FrameEncoder();
for (let i = 0; i < STREAM_FRAMES; i++) enc.addEncoded(dataBody);
const stream = enc.finish();
const chunks = [];
for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
const jsonStream = Buffer.concat(Array.from({ length: STREAM_FRAMES }, () => dataJsonWire));
const jsonChunks = [];
for (let i = 0; i < jsonStream.length; i += 65536) jsonChunks.push(jsonStream.subarray(i, i + 65536));

let sink = 0;
const bench = new Bench({ time, warmupTime: Math.min(time, 300) });
bench
  .add("protobuf encode heartbeat", () => { sink += encodeFrame(heartbeat).length; })
  .add("json     encode heartbeat", () => { sink += toJsonBytes(heartbeatJson).length; })
  .add("protobuf decode heartbeat", () => { sink += decodeFrame(hbBody).channel; })
  .add("json     decode heartbeat", () => { sink += fromJsonBytes(hbJsonWire).channel; })
  .add("protobuf encode data(100B)", () => { sink += encodeFrame(data).length; })
  .add("json     encode data(100B)", () => { sink += toJsonBytes(dataJson).length; })
  .add("protobuf decode data(100B)", () => { sink += decodeFrame(dataBody).channel; })
  .add("json     decode data(100B)", () => { sink += fromJsonBytes(dataJsonWire).channel; })
  // The same decode without hb's wire-type check (fromBinary alone), to show its cost.
  .add("protobuf decode data(100B), no wire-type check", () => { sink += fromBinary(FrameSchema, dataBody, { readUnknownFields: false }).channel; })
  .add("protobuf stream decode 4MiB", () => {
    const d = new FrameDecoder();
    let n = 0;
    for (const c of chunks) d.push(c, () => { n++; });
    if (n !== STREAM_FRAMES) throw new Error(`decoded ${n} of ${STREAM_FRAMES}`);
  })
  .add("json     stream decode 4MiB", () => {
    // Newline-delimited JSON with the same frames, split the same way.
    let rest = "";
    let n = 0;
    for (const c of jsonChunks) {
      const lines = (rest + c.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) { fromJsonBytes(Buffer.from(l)); n++; }
    }
    if (n !== STREAM_FRAMES) throw new Error(`decoded ${n} of ${STREAM_FRAMES}`);
  });

await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result;
  const hz = r?.throughput?.mean ?? r?.hz ?? 0;
  const row = { task: t.name, "ops/s": Math.round(hz).toLocaleString("en-US"), "rme %": (r?.latency?.rme ?? r?.rme ?? 0).toFixed(2) };
  if (t.name.includes("stream")) {
    const bytes = t.name.startsWith("json") ? jsonStream.length : stream.length;
    row["frames/s"] = Math.round(hz * STREAM_FRAMES).toLocaleString("en-US");
    row["MB/s"] = ((hz * bytes) / 1e6).toFixed(1);
  }
  return row;
});
console.table(rows);
console.log(`wire sizes: heartbeat ${hbWire.length} B (json ${hbJsonWire.length} B), data ${dataWire.length} B (json ${dataJsonWire.length} B)`);
console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`);
if (sink === -1) console.log(sink);

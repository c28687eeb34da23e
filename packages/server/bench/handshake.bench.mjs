// Handshake latency (connect + Hello → Welcome), one connection at a time,
// against a server of 1 and of 2 worker processes: what the multi-process
// Welcome barrier (PROTOCOL.md §5.3, issue 15) costs.
//
//   pnpm bench:handshake                      # this checkout's build
//   node packages/server/bench/handshake.bench.mjs /path/to/other/server/dist/index.js   # another build, to compare
//
// Loopback only; bounded: ROUNDS handshakes per configuration, then it stops.
import { connect } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FrameDecoder, PROTOCOL_VERSION, encodeFrame, makeFrame } from "@hb/codec";

const ROUNDS = 1_000;
const target = process.argv[2] ?? new URL("../dist/index.js", import.meta.url).pathname;
const { HeartbeatServer } = await import(pathToFileURL(resolve(target)).href);

function handshake(port, nodeId) {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const socket = connect({ port, host: "127.0.0.1" });
    const decoder = new FrameDecoder();
    socket.setNoDelay(true);
    socket.once("connect", () => socket.write(encodeFrame(makeFrame("hello", { protocolVersion: PROTOCOL_VERSION, nodeId }))));
    socket.on("data", (chunk) => {
      decoder.push(chunk, (frame) => {
        if (frame.body.case !== "welcome") return fail(new Error(`got ${frame.body.case}`));
        const ms = performance.now() - t0;
        socket.destroy();
        done(ms);
      });
    });
    socket.once("error", fail);
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

for (const workerCount of [1, 2]) {
  const server = new HeartbeatServer({ host: "127.0.0.1", port: 0, workerCount, closeTimeout: 500 });
  const { port } = await server.listen();
  for (let i = 0; i < 100; i++) await handshake(port, `warm-${workerCount}-${i}`);
  const times = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await handshake(port, `bench-${workerCount}-${i}`));
  times.sort((a, b) => a - b);
  const f = (v) => `${v.toFixed(3)} ms`;
  console.log(
    `workerCount ${workerCount}: ${ROUNDS} handshakes, p50 ${f(pct(times, 50))}, p90 ${f(pct(times, 90))}, p99 ${f(pct(times, 99))}, max ${f(times.at(-1))}`,
  );
  await server.close();
}
process.exit(0);

// The short fuzz run of the test suite (`pnpm fuzz` runs longer): each target
// fed mutated golden vectors for a bounded budget with a fixed seed; no crash
// or hang, and the error codes a hostile peer can reach are reached.
import { describe, expect, it } from "vitest";
import { formatReport } from "../src/fuzz-report.js";
import { Mutator } from "../src/mutator.js";
import { runFuzz } from "../src/run-fuzz.js";
import { loadSeeds } from "../src/seed-corpus.js";
import { decoderTarget } from "../src/targets/decoder-target.js";
import { sessionTarget } from "../src/targets/session-target.js";
import { tcpTarget } from "../src/targets/tcp-target.js";

const seeds = loadSeeds();
const SEED = 20261206;

describe("pnpm fuzz, briefly", () => {
  it("is deterministic by seed", () => {
    const a = new Mutator(seeds, 7);
    const b = new Mutator(seeds, 7);
    for (let i = 0; i < 1_000; i++) expect(a.next()).toEqual(b.next());
    expect(new Mutator(seeds, 8).next()).not.toEqual(new Mutator(seeds, 7).next());
  });

  it("decoder: 100 000 inputs, no crash, every decode error code reached", async () => {
    const r = await runFuzz(decoderTarget(), seeds, SEED, { inputs: 100_000, seconds: 20 });
    console.log(formatReport(r));
    expect(r.findings).toEqual([]);
    expect(Object.keys(r.codes).sort()).toEqual(["BAD_VARINT", "EMPTY_FRAME", "FRAME_TOO_LARGE", "MALFORMED_FRAME", "TRUNCATED"]);
  }, 60_000);

  it("session without sockets: 6 s, no crash, handshake and handler codes reached", async () => {
    const r = await runFuzz(sessionTarget(seeds), seeds, SEED, { seconds: 6 });
    console.log(formatReport(r));
    expect(r.findings).toEqual([]);
    expect(r.inputs).toBeGreaterThan(1_000);
    for (const code of ["MALFORMED_FRAME", "PROTOCOL_VIOLATION", "INVALID_ARGUMENT"]) expect(r.codes[code], code).toBeGreaterThan(0);
    expect(Object.keys(r.codes).length).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it("server over TCP: 6 s, every connection answered and closed, no crash", async () => {
    const r = await runFuzz(await tcpTarget(seeds), seeds, SEED, { seconds: 6 });
    console.log(formatReport(r));
    expect(r.findings).toEqual([]);
    expect(r.inputs).toBeGreaterThan(200);
    for (const code of ["MALFORMED_FRAME", "PROTOCOL_VIOLATION"]) expect(r.codes[code], code).toBeGreaterThan(0);
  }, 60_000);
});

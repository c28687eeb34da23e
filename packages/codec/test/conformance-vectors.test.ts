// Runs the language-neutral conformance vectors of proto/testdata/ (see its
// README.md) against @hb/codec, and checks that the vectors still cover every
// Frame body and every decode error code.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type JsonValue, fromJson, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  type Frame,
  FrameDecoder,
  FrameEncoder,
  FrameSchema,
  HbError,
  decodeFrame,
  decodeFrames,
  errorCodeName,
} from "../src/index.js";

const TESTDATA = new URL("../../../proto/testdata/", import.meta.url);

interface ManifestEntry {
  name: string;
  bin: string;
  json: string;
  size: number;
  sha256: string;
}

interface Manifest {
  protocolVersion: number;
  defaultMaxFrameSize: number;
  valid: ManifestEntry[];
  noncanonical: ManifestEntry[];
  invalid: ManifestEntry[];
}

interface ValidVector {
  description: string;
  frame?: JsonValue;
  frames?: JsonValue[];
  reassembled?: JsonValue[];
}

interface InvalidVector {
  description: string;
  error: string;
  maxFrameSize?: number;
  framesBefore?: number;
}

/**
 * Invalid vectors @hb/codec does not reject with the required code yet:
 * protobuf-es reads a known field with the wire type of its declared type,
 * whatever wire type arrived, so these decode instead of failing with
 * MALFORMED_FRAME (docs/PROTOCOL.md, "Framing"). They run as expected
 * failures; when the codec is fixed they start passing, `it.fails` reports
 * that, and the entry must go (here and `tsCodecGap` in generate.mjs).
 */
const KNOWN_CODEC_GAPS = new Set<string>();

const manifest = JSON.parse(readFileSync(new URL("manifest.json", TESTDATA), "utf8")) as Manifest;

function load<T>(entry: ManifestEntry): { bytes: Uint8Array; vector: T } {
  const bytes = new Uint8Array(readFileSync(new URL(entry.bin, TESTDATA)));
  const vector = JSON.parse(readFileSync(new URL(entry.json, TESTDATA), "utf8")) as T;
  return { bytes, vector };
}

/** The frames a valid vector describes, as canonical protobuf JSON. */
const expectedFrames = (v: ValidVector): JsonValue[] => v.frames ?? (v.frame === undefined ? [] : [v.frame]);

const asJson = (frames: Frame[]): JsonValue[] => frames.map((f) => toJson(FrameSchema, f));

/** Reassembles the Fragment frames of a stream, in order of completion. */
function reassemble(frames: Frame[]): Frame[] {
  const open = new Map<number, { total: bigint; parts: Uint8Array[] }>();
  const done: Frame[] = [];
  for (const f of frames) {
    if (f.body.case !== "fragment") continue;
    const { id, totalLength, data, final } = f.body.value;
    let entry = open.get(id);
    if (entry === undefined) {
      expect(totalLength, `first fragment of id ${id} announces total_length`).toBeGreaterThan(0n);
      entry = { total: totalLength, parts: [] };
      open.set(id, entry);
    }
    entry.parts.push(data);
    if (final) {
      open.delete(id);
      const whole = Buffer.concat(entry.parts);
      expect(BigInt(whole.length), `fragment ${id} total_length`).toBe(entry.total);
      done.push(decodeFrame(whole));
    }
  }
  expect(open.size, "every fragmented frame is finished").toBe(0);
  return done;
}

describe("conformance vectors: manifest", () => {
  it("lists files whose size and sha256 match", () => {
    for (const entry of [...manifest.valid, ...manifest.noncanonical, ...manifest.invalid]) {
      const bytes = readFileSync(new URL(entry.bin, TESTDATA));
      expect(bytes.length, entry.bin).toBe(entry.size);
      expect(createHash("sha256").update(bytes).digest("hex"), entry.bin).toBe(entry.sha256);
    }
  });

  it("covers every Frame body at least once in valid/", () => {
    const seen = new Set<string>();
    for (const entry of manifest.valid) {
      for (const f of decodeFrames(load<ValidVector>(entry).bytes)) if (f.body.case) seen.add(f.body.case);
    }
    const bodies = FrameSchema.oneofs.find((o) => o.name === "body")?.fields.map((f) => f.localName) ?? [];
    expect(bodies).toHaveLength(24);
    expect(bodies.filter((b) => !seen.has(b))).toEqual([]);
  });

  it("covers every decode error code at least once in invalid/", () => {
    // Codes 1..5 are the ones a decoder reports locally (see error.proto).
    const decodeCodes = [
      ErrorCode.BAD_VARINT,
      ErrorCode.FRAME_TOO_LARGE,
      ErrorCode.MALFORMED_FRAME,
      ErrorCode.EMPTY_FRAME,
      ErrorCode.TRUNCATED,
    ].map(errorCodeName);
    const seen = new Set(manifest.invalid.map((e) => load<InvalidVector>(e).vector.error));
    expect(decodeCodes.filter((c) => !seen.has(c))).toEqual([]);
    // And every named error is a real ErrorCode name.
    for (const name of seen) expect(ErrorCode[name as keyof typeof ErrorCode], name).toBeTypeOf("number");
  });
});

describe("conformance vectors: valid/", () => {
  for (const entry of manifest.valid) {
    it(entry.name, () => {
      const { bytes, vector } = load<ValidVector>(entry);
      const json = expectedFrames(vector);

      // encode(description) == bytes
      const enc = new FrameEncoder();
      for (const j of json) enc.add(fromJson(FrameSchema, j));
      expect(Buffer.from(enc.finish()).toString("hex")).toBe(Buffer.from(bytes).toString("hex"));

      // decode(bytes) == description, in one chunk and byte by byte
      const frames = decodeFrames(bytes);
      expect(asJson(frames)).toEqual(json);
      const d = new FrameDecoder();
      const trickled: Frame[] = [];
      for (const b of bytes) expect(d.push(Uint8Array.of(b), (f) => trickled.push(f))).toBeUndefined();
      expect(d.end()).toBeUndefined();
      expect(asJson(trickled)).toEqual(json);

      if (vector.reassembled !== undefined) expect(asJson(reassemble(frames))).toEqual(vector.reassembled);
    });
  }
});

describe("conformance vectors: noncanonical/", () => {
  for (const entry of manifest.noncanonical) {
    it(entry.name, () => {
      const { bytes, vector } = load<ValidVector>(entry);
      const json = expectedFrames(vector);
      expect(asJson(decodeFrames(bytes))).toEqual(json);
      // Re-encoding yields the canonical form, which differs from the input.
      const enc = new FrameEncoder();
      for (const j of json) enc.add(fromJson(FrameSchema, j));
      expect(Buffer.from(enc.finish()).equals(Buffer.from(bytes))).toBe(false);
    });
  }
});

describe("conformance vectors: invalid/", () => {
  for (const entry of manifest.invalid) {
    (KNOWN_CODEC_GAPS.has(entry.name) ? it.fails : it)(entry.name, () => {
      const { bytes, vector } = load<InvalidVector>(entry);
      const options = { maxFrameSize: vector.maxFrameSize ?? manifest.defaultMaxFrameSize };

      let thrown: unknown;
      try {
        decodeFrames(bytes, options);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HbError);
      expect((thrown as HbError).codeName).toBe(vector.error);

      // The streaming decoder delivers framesBefore frames, then fails with
      // the same code, whether the bytes arrive at once or one by one.
      for (const chunking of ["whole", "bytewise"] as const) {
        const d = new FrameDecoder(options);
        let delivered = 0;
        let err: HbError | undefined;
        if (chunking === "whole") err = d.push(bytes, () => delivered++);
        else for (const b of bytes) if ((err = d.push(Uint8Array.of(b), () => delivered++)) !== undefined) break;
        err ??= d.end();
        expect(err?.codeName, chunking).toBe(vector.error);
        expect(delivered, chunking).toBe(vector.framesBefore ?? 0);
      }
    });
  }
});

import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import type { Seed } from "./seed-corpus.js";

// Values that sit on the edges decoders get wrong: varint continuation bits, sign bits, limits.
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0f, 0x10, 0x3f, 0x40, 0xfe];

/**
 * Mutates the golden vectors, deterministically from a seed (pure-rand's
 * xoroshiro128+): each input is one seed vector — or two spliced — with 1
 * to 4 mutations (bit flips, interesting bytes, inserted / deleted /
 * duplicated runs, a tampered length prefix, truncation), as AFL-style
 * fuzzers do. The same seed yields the same inputs in the same order.
 */
export class Mutator {
  readonly #rng: RandomGenerator;
  readonly #seeds: readonly Seed[];

  constructor(seeds: readonly Seed[], seed: number) {
    this.#seeds = seeds;
    this.#rng = xoroshiro128plus(seed);
  }

  /** A random integer in [from, to]. */
  int(from: number, to: number): number {
    return uniformInt(this.#rng, from, to);
  }

  /** A random seed vector. */
  seed(): Seed {
    return this.#seeds[this.int(0, this.#seeds.length - 1)] as Seed;
  }

  /** The next input: a mutated seed (the valid ones most often: they reach deepest). */
  next(): Uint8Array {
    let base: Uint8Array = this.seed().bytes;
    if (this.int(0, 9) === 0) {
      const other = this.seed().bytes;
      base = concat(base.subarray(0, this.int(0, base.length)), other.subarray(this.int(0, other.length)));
    }
    let out: Uint8Array = Uint8Array.from(base);
    const n = this.int(1, 4);
    for (let i = 0; i < n; i++) out = this.#mutate(out);
    return out;
  }

  /** Cut points for feeding `input` in chunks (0 to 3 cuts). */
  cuts(input: Uint8Array): number[] {
    const n = input.length < 2 ? 0 : this.int(0, 3);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.int(1, input.length - 1));
    return out.sort((a, b) => a - b);
  }

  #mutate(b: Uint8Array): Uint8Array {
    const len = b.length;
    const at = () => this.int(0, Math.max(0, len - 1));
    switch (this.int(0, 8)) {
      case 0: // flip a bit
        if (len > 0) {
          const i = at();
          b[i] = (b[i] as number) ^ (1 << this.int(0, 7));
        }
        return b;
      case 1: // an interesting byte
        if (len > 0) b[at()] = INTERESTING[this.int(0, INTERESTING.length - 1)] as number;
        return b;
      case 2: // a random byte
        if (len > 0) b[at()] = this.int(0, 255);
        return b;
      case 3: {
        // insert random bytes
        const ins = new Uint8Array(this.int(1, 8)).map(() => this.int(0, 255));
        const p = this.int(0, len);
        return concat(b.subarray(0, p), ins, b.subarray(p));
      }
      case 4: {
        // delete a run
        if (len === 0) return b;
        const p = at();
        return concat(b.subarray(0, p), b.subarray(Math.min(len, p + this.int(1, 8))));
      }
      case 5: {
        // duplicate a run (repeated fields, repeated frames)
        if (len === 0) return b;
        const p = at();
        const run = b.subarray(p, Math.min(len, p + this.int(1, 32)));
        return concat(b.subarray(0, p), run, run, b.subarray(p + run.length));
      }
      case 6: // tamper with the length prefix
        if (len > 0) b[0] = this.int(0, 1) === 0 ? this.int(0, 255) : Math.max(0, Math.min(255, (b[0] as number) + this.int(-3, 3)));
        return b;
      case 7: // truncate
        return b.subarray(0, this.int(0, len));
      default: // append another vector (frames after frames)
        return concat(b, this.seed().bytes);
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Why hb keeps one hand-written varint (src/varint.ts) next to
// @bufbuild/protobuf/wire's BinaryWriter: the per-recipient relay head
// (length prefix, channel, tag, body length) built both ways.
//
//   npx tsx packages/codec/bench/varint.bench.ts
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { DELIVERY_FIELD, relayFrameLength, relayHead } from "@hb/codec";
import { Bench } from "tinybench";

let sink = 0;
const bench = new Bench({ time: 1_000 });
for (const body of [100, 16 * 1024]) {
  bench.add(`relay head, ${body}-byte body: relayHead (writeVarint32)`, () => {
    sink += relayHead(7, DELIVERY_FIELD, body).length;
  });
  bench.add(`relay head, ${body}-byte body: BinaryWriter`, () => {
    const w = new BinaryWriter();
    w.uint32(relayFrameLength(7, DELIVERY_FIELD, body)).tag(1, WireType.Varint).uint32(7).tag(DELIVERY_FIELD, WireType.LengthDelimited).uint32(body);
    sink += w.finish().length;
  });
}
await bench.run();
console.table(bench.table());
console.log(`node ${process.version}; sink ${sink > 0}`);

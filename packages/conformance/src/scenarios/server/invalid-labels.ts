import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Label limits: ≤ 32 entries, key 1..64 bytes, value ≤ 256 bytes; breaking
 * them → INVALID_ARGUMENT fatal (PROTOCOL.md §4.2, §14).
 */
export const invalidLabels: ServerScenario = {
  name: "invalid-labels",
  description:
    "Hello.labels with 33 entries, an empty key, a 65-byte key or a 257-byte value → ProtocolError{INVALID_ARGUMENT, fatal} and close; 32 entries at the size limits are accepted",
  async run(ctx) {
    const many = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    const cases: [string, Record<string, string>][] = [
      ["33 entries", many(33)],
      ["an empty key", { "": "v" }],
      ["a 65-byte key", { ["k".repeat(65)]: "v" }],
      ["a 257-byte value", { k: "v".repeat(257) }],
    ];
    for (const [what, labels] of cases) {
      const conn = await ctx.connect(`connection with labels of ${what}`);
      conn.sendBody("hello", { protocolVersion: 1, nodeId: ctx.nodeId("labels"), labels });
      await ctx.expectFatal(conn, ErrorCode.INVALID_ARGUMENT, `after sending Hello with labels of ${what}`);
    }
    const limits = many(31);
    limits["k".repeat(64)] = "v".repeat(256);
    await ctx.open("connection with 32 labels at the size limits", { labels: limits });
  },
};

import { type ErrorCode, errorCodeName } from "@hb/codec";
import { Bystander } from "../../bystander.js";
import { hexBytes } from "../../describe-frame.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Builds a decode-error scenario: after a handshake, `bytes` are sent on one
 * connection; the server must answer with a fatal ProtocolError `code` and
 * close (PROTOCOL.md §3.4: every decode error is fatal), while a second,
 * well-behaved connection opened before keeps getting heartbeat acks.
 *
 * @param bytes - what to send, length prefix included
 * @param what - description of the bytes for messages and the description
 */
export function decodeErrorScenario(name: string, bytes: readonly number[], code: ErrorCode, what: string): ServerScenario {
  const wire = new Uint8Array(bytes);
  return {
    name,
    description: `${what} (bytes ${hexBytes(wire)}) after the handshake → ProtocolError{${errorCodeName(code)}, fatal} and close; another connection keeps getting acks`,
    async run(ctx) {
      const bystander = await Bystander.start(ctx);
      await bystander.expectAcks(0, 1, ctx.replyTimeoutMs, "before the test");
      const { conn } = await ctx.open("bad connection");
      const mark = bystander.acks;
      conn.sendBytes(wire);
      await ctx.expectFatal(conn, code, `after sending ${what} (bytes ${hexBytes(wire)})`);
      await bystander.expectAcks(mark, 2, ctx.replyTimeoutMs, `while another connection sent ${what}`);
    },
  };
}

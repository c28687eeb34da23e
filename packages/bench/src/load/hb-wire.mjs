// hb over raw sockets for the load clients: Hello, Heartbeat, and a decoder
// that reports Welcome, HeartbeatAck, refusals and GoAway. Frames are built
// with @hb/codec (the Heartbeat once per process: every node sends the same
// bytes, the round trip is timed per connection by the load client).
import { FrameDecoder, PROTOCOL_VERSION, encodeFrame, errorCodeName, makeFrame } from "@hb/codec";

/**
 * @param {{ prefix: string, interval: number, labels?: Record<string, string> }} o
 *   node ids are `${prefix}-${i}`; `interval` (ms) is asked for in the Hello
 */
export function hbWire({ prefix, interval, labels = { bench: "scale" } }) {
  return {
    name: "hb",
    open: (i) =>
      encodeFrame(
        makeFrame("hello", { protocolVersion: PROTOCOL_VERSION, nodeId: `${prefix}-${i}`, labels, heartbeatIntervalMs: interval }),
      ),
    ping: encodeFrame(makeFrame("heartbeat", { seq: 1n, sendTimeUs: 0n })),
    serverPings: false,
    /** A per-connection reader: bytes in, events out (`ready`, `pong`, `refused`, `goAway`, `bad`). */
    reader(events) {
      const decoder = new FrameDecoder();
      const onFrame = (frame) => {
        const body = frame.body;
        switch (body.case) {
          case "welcome":
            events.ready();
            break;
          case "heartbeatAck":
            events.pong();
            break;
          case "error":
            if (body.value.fatal) events.refused(errorCodeName(body.value.code));
            break;
          case "goAway":
            events.goAway();
            break;
        }
      };
      return (chunk) => {
        if (decoder.push(chunk, onFrame) !== undefined) events.bad("decode");
      };
    },
  };
}

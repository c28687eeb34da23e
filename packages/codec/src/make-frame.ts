import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Frame, FrameSchema } from "./gen/hb/v1/frame_pb.js";

/** The name of a Frame body, e.g. `"hello"` or `"heartbeat"`. */
export type FrameBodyCase = NonNullable<Frame["body"]["case"]>;

/** The init shape of the body named `K` (plain object, all fields optional). */
export type FrameBodyInit<K extends FrameBodyCase> = Extract<
  NonNullable<MessageInitShape<typeof FrameSchema>["body"]>,
  { case: K }
>["value"];

/**
 * Builds a Frame with the given body.
 *
 * ```ts
 * makeFrame("heartbeat", { seq: 1n, sendTimeUs: 0n });
 * makeFrame("delivery", { payload }, 7); // on channel 7
 * ```
 */
export function makeFrame<K extends FrameBodyCase>(
  kind: K,
  value: FrameBodyInit<K>,
  channel = 0,
): Frame {
  return create(FrameSchema, {
    channel,
    body: { case: kind, value } as MessageInitShape<typeof FrameSchema>["body"],
  });
}

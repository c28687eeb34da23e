/**
 * @hb/codec: the hb v1 wire protocol for TypeScript.
 *
 * - Generated message types and schemas for every frame (`Frame`, `Hello`,
 *   `Heartbeat`, …), from `proto/hb/v1`.
 * - {@link FrameDecoder}: streaming bytes → frames, zero-copy where it can,
 *   with typed {@link HbError}s for malformed input.
 * - {@link FrameEncoder} / {@link encodeFrame}: frames → bytes, many frames
 *   per buffer.
 *
 * The protocol is specified in docs/PROTOCOL.md.
 *
 * @packageDocumentation
 */
export * from "./gen/hb/v1/auth_pb.js";
export * from "./gen/hb/v1/channel_pb.js";
export * from "./gen/hb/v1/error_pb.js";
export * from "./gen/hb/v1/flow_pb.js";
export * from "./gen/hb/v1/frame_pb.js";
export * from "./gen/hb/v1/gateway_pb.js";
export * from "./gen/hb/v1/handshake_pb.js";
export * from "./gen/hb/v1/liveness_pb.js";
export * from "./gen/hb/v1/presence_pb.js";
export {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  FRAGMENT_SIZE,
  MAX_FRAME_SIZE_LIMIT,
  MAX_LENGTH_PREFIX_BYTES,
  MAX_OPEN_FRAGMENTED,
  MIN_MAX_FRAME_SIZE,
} from "./limits.js";
export { PROTOCOL_VERSION } from "./protocol-version.js";
export { decodeFrame } from "./decode-frame.js";
export { deliveryPayloadOffset, encodeDelivery, withToNodeId } from "./encode-delivery.js";
export { Feature, type FeatureName } from "./features.js";
export { encodeFrame, sizeDelimit } from "./encode-frame.js";
export { FrameDecoder, type FrameDecoderOptions, type FrameHandler, decodeFrameStream, decodeFrames } from "./frame-decoder.js";
export { FrameEncoder } from "./frame-encoder.js";
export {
  type ChannelQueueOptions,
  FrameScheduler,
  type FrameSchedulerOptions,
  type FrameSchedulerStats,
  type OverflowMode,
} from "./frame-scheduler.js";
export { FragmentAssembler, type FragmentAssemblerOptions, PendingFrame } from "./fragment-assembler.js";
export { Fifo } from "./fifo.js";
export { FRAGMENT_OVERHEAD, type FragmentOptions, fragmentFrame, needsFragmenting } from "./fragmenter.js";
export { HbError, errorCodeName } from "./hb-error.js";
export { type FrameBodyCase, type FrameBodyInit, makeFrame } from "./make-frame.js";
export { DELIVERY_FIELD, PRESENCE_FIELD, REPLY_FIELD, joinRelayFrame, relayFrameLength, relayHead } from "./relay-head.js";
export {
  MAX_LABELS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  MAX_NODE_ID_BYTES,
  labelsProblem,
  nodeIdProblem,
} from "./node-rules.js";
export {
  MAX_SUBJECT_BYTES,
  MAX_SUBJECT_TOKENS,
  PRESENCE_SUBJECT,
  type PublishProblem,
  RESERVED_SUBJECT_PREFIX,
  isReservedSubject,
  publishProblem,
  subjectProblem,
} from "./subject-rules.js";
export { type VarintCursor, readVarint32, varint64Size, varintSize, writeVarint32, writeVarint64 } from "./varint.js";

import { type DescMessage, toJsonString } from "@bufbuild/protobuf";
import { type Frame, type FrameBodyCase, FrameSchema, type ProtocolError, errorCodeName } from "@hb/codec";

const bodyMessages = new Map<string, DescMessage>();
for (const field of FrameSchema.fields) {
  if (field.oneof?.name === "body" && field.message !== undefined) bodyMessages.set(field.localName, field.message);
}

const MAX_DETAIL = 200;

/**
 * The protobuf message name of a Frame body, e.g. `frameTypeName("heartbeatAck") === "HeartbeatAck"`
 * and `frameTypeName("error") === "ProtocolError"`: the names a reader of the schema knows.
 */
export function frameTypeName(kind: FrameBodyCase): string {
  return bodyMessages.get(kind)?.name ?? kind;
}

/**
 * One-line, human-readable description of a ProtocolError, e.g.
 * `ProtocolError{code: BAD_VARINT, fatal: true, ref: 0, message: "…"}`.
 */
export function describeProtocolError(e: ProtocolError): string {
  const message = e.message === "" ? "" : `, message: ${JSON.stringify(truncate(e.message, 120))}`;
  const refBody = e.refBody === 0 ? "" : `, ref_body: ${e.refBody}`;
  const nodeId = e.nodeId === "" ? "" : `, node_id: ${JSON.stringify(e.nodeId)}`;
  return `ProtocolError{code: ${errorCodeName(e.code)}, fatal: ${e.fatal}, ref: ${e.ref}${refBody}${nodeId}${message}}`;
}

/**
 * One-line, human-readable description of a received frame for failure
 * messages: its message name and its fields as protobuf JSON (at most about
 * 200 characters).
 */
export function describeFrame(frame: Frame): string {
  const body = frame.body;
  if (body.case === undefined) return "Frame{no body}";
  if (body.case === "error") return describeProtocolError(body.value);
  const schema = bodyMessages.get(body.case);
  let detail = "";
  if (schema !== undefined) {
    try {
      detail = toJsonString(schema, body.value as never);
    } catch {
      detail = "";
    }
  }
  const channel = frame.channel === 0 ? "" : ` on channel ${frame.channel}`;
  return `${frameTypeName(body.case)}${detail === "{}" ? "" : truncate(detail, MAX_DETAIL)}${channel}`;
}

/** Bytes as space-separated hex, e.g. `"80 80 80 80 10"`. */
export function hexBytes(bytes: Uint8Array | readonly number[]): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

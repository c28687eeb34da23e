import { type Frame, FrameSchema } from "@hb/codec";

/** What a non-fatal ProtocolError says about the frame it answers (PROTOCOL.md §13.2). */
export interface ErrorRef {
  /** `ProtocolError.ref`: the Subscribe's request id, the Attach's handle, the request id, or 0. */
  ref: number | bigint;
  /** `ProtocolError.ref_body`: the `Frame` body field number of the frame answered. */
  refBody: number;
  /** `ProtocolError.node_id`: the node the error is about (a Send's target, an attached node, a Reply's requester), or `""`. */
  nodeId: string;
}

const FIELDS = FrameSchema.field;

/** `ref_body` of the errors about an attached node (an Attach, or its later `HEARTBEAT_TIMEOUT` / `DUPLICATE_NODE`). */
export const ATTACH_BODY = FIELDS.attach?.number as number;

/** `ref_body` of the error refusing a Renew (PROTOCOL.md §5.8). */
export const RENEW_BODY = FIELDS.renew?.number as number;

/**
 * The correlation fields of a non-fatal error answering `frame`, per the
 * table of PROTOCOL.md §13.2: a server sets them on every non-fatal error.
 */
export function errorRef(frame: Frame): ErrorRef {
  const body = frame.body;
  const refBody = body.case === undefined ? 0 : ((FIELDS[body.case]?.number as number | undefined) ?? 0);
  switch (body.case) {
    case "attach":
      return { ref: body.value.handle, refBody, nodeId: body.value.nodeId };
    case "subscribe":
      return { ref: body.value.requestId, refBody, nodeId: "" };
    case "publish":
      return { ref: body.value.requestId, refBody, nodeId: "" };
    case "send":
      return { ref: body.value.requestId, refBody, nodeId: body.value.nodeId };
    case "reply":
      // §13.2: a refused Reply names the requester; `ref` stays 0.
      return { ref: 0, refBody, nodeId: body.value.nodeId };
    default:
      return { ref: 0, refBody, nodeId: "" };
  }
}

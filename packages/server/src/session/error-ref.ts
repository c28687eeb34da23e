import { type Frame, FrameSchema } from "@hb/codec";

/** What a non-fatal ProtocolError answering a frame says about it (PROTOCOL.md §13.2). */
export interface ErrorRef {
  /** `ref`: Subscribe.request_id, a request id, an Attach's handle; 0 when none. */
  readonly ref: number | bigint;
  /** `ref_body`: the Frame body field number of the frame answered. */
  readonly refBody: number;
  /** `node_id`: the target of a Send, the node of an Attach, the requester of a Reply; "" when none. */
  readonly nodeId: string;
}

// Frame body case → its field number in Frame (`ref_body`), from the schema.
const BODY_NUMBERS: ReadonlyMap<string, number> = new Map(FrameSchema.fields.map((f) => [f.localName, f.number]));

/** The {@link ErrorRef} of a refusal of `frame`. */
export function errorRef(frame: Frame): ErrorRef {
  const body = frame.body;
  const refBody = BODY_NUMBERS.get(body.case ?? "") ?? 0;
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
      return { ref: body.value.requestId, refBody, nodeId: body.value.nodeId };
    default:
      return { ref: 0, refBody, nodeId: "" };
  }
}

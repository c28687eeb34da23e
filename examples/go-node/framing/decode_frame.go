package framing

import (
	"google.golang.org/protobuf/proto"

	hbv1 "hb.example/go-node/gen/hb/v1"
)

// Unknown fields are dropped: a hostile peer must not make us hold bytes we
// will never use (the TypeScript codec does the same).
var unmarshalOptions = proto.UnmarshalOptions{DiscardUnknown: true}

// DecodeFrame decodes the bytes of one Frame (without its length prefix).
//
// It fails with MALFORMED_FRAME when the bytes are not a valid protobuf Frame
// (including invalid UTF-8 in a string field, and a known field sent with a
// wire type other than its declared one, see CheckWireTypes), and with
// EMPTY_FRAME when no body is set (also when only fields unknown to this
// version are).
func DecodeFrame(b []byte) (*hbv1.Frame, error) {
	if err := CheckWireTypes(b, (&hbv1.Frame{}).ProtoReflect().Descriptor()); err != nil {
		return nil, newError(hbv1.ErrorCode_ERROR_CODE_MALFORMED_FRAME, "malformed frame: %v", err)
	}
	f := &hbv1.Frame{}
	if err := unmarshalOptions.Unmarshal(b, f); err != nil {
		return nil, newError(hbv1.ErrorCode_ERROR_CODE_MALFORMED_FRAME, "malformed frame: %v", err)
	}
	if f.Body == nil {
		return nil, newError(hbv1.ErrorCode_ERROR_CODE_EMPTY_FRAME, "frame has no body")
	}
	return f, nil
}

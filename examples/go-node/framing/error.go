package framing

import (
	"fmt"
	"strings"

	hbv1 "hb.example/go-node/gen/hb/v1"
)

// Error is a protocol-level failure with a stable code from the protocol's
// ErrorCode enum: the same number that travels in a ProtocolError frame.
// Decoding fails with BAD_VARINT, FRAME_TOO_LARGE, MALFORMED_FRAME,
// EMPTY_FRAME or TRUNCATED.
type Error struct {
	Code    hbv1.ErrorCode
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.CodeName(), e.Message) }

// CodeName is the code's enum name without its ERROR_CODE_ prefix, e.g.
// "FRAME_TOO_LARGE"; numbers unknown to this schema give "UNKNOWN_<n>".
func (e *Error) CodeName() string { return CodeName(e.Code) }

// CodeName returns the name of an error code without the ERROR_CODE_ prefix.
func CodeName(code hbv1.ErrorCode) string {
	if name, ok := hbv1.ErrorCode_name[int32(code)]; ok {
		return strings.TrimPrefix(name, "ERROR_CODE_")
	}
	return fmt.Sprintf("UNKNOWN_%d", int32(code))
}

// CodeByName is the inverse of CodeName ("BAD_VARINT" → ERROR_CODE_BAD_VARINT).
func CodeByName(name string) (hbv1.ErrorCode, bool) {
	v, ok := hbv1.ErrorCode_value["ERROR_CODE_"+name]
	return hbv1.ErrorCode(v), ok
}

func newError(code hbv1.ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

package framing

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	hbv1 "hb.example/go-node/gen/hb/v1"
)

// Deterministic: map entries (labels) sorted by key, the canonical form of
// docs/PROTOCOL.md §3.5, so that equal frames encode to equal bytes.
var marshalOptions = proto.MarshalOptions{Deterministic: true}

// Marshal returns the canonical protobuf encoding of f (no length prefix).
func Marshal(f *hbv1.Frame) ([]byte, error) { return marshalOptions.Marshal(f) }

// AppendPrefixed appends body, the encoding of a Frame, with its varint
// length prefix.
func AppendPrefixed(dst, body []byte) []byte {
	dst = protowire.AppendVarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// AppendFrame appends the wire form of f (varint length prefix, then the
// protobuf bytes) to dst.
func AppendFrame(dst []byte, f *hbv1.Frame) ([]byte, error) {
	body, err := Marshal(f)
	if err != nil {
		return dst, err
	}
	return AppendPrefixed(dst, body), nil
}

// EncodeFrame returns the wire form of f.
func EncodeFrame(f *hbv1.Frame) ([]byte, error) { return AppendFrame(nil, f) }

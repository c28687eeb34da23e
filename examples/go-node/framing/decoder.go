// Package framing is the hb v1 wire framing: each Frame is preceded by its
// length as an unsigned varint (protobuf's size-delimited form).
//
// Decoder is a streaming decoder with the exact error semantics of the
// reference TypeScript decoder (packages/codec/src/frame-decoder.ts) and
// docs/PROTOCOL.md: the same input fails with the same code, however it is
// cut into chunks.
package framing

import (
	"fmt"

	hbv1 "hb.example/go-node/gen/hb/v1"
)

const (
	// DefaultMaxFrameSize is the protocol's default largest frame, in bytes,
	// length prefix excluded: 1 MiB.
	DefaultMaxFrameSize = 1 << 20
	// MaxFrameSizeLimit is the upper bound of any max frame size: 64 MiB.
	MaxFrameSizeLimit = 64 << 20
	// MaxLengthPrefixBytes is the longest valid length prefix: a frame length
	// is a 32-bit unsigned varint.
	MaxLengthPrefixBytes = 5
)

// Decoder turns bytes, pushed in chunks of any size, into Frames.
//
//   - The maximum frame size is enforced on the length prefix, byte by byte,
//     before anything is buffered: a prefix whose value so far exceeds it
//     fails with FRAME_TOO_LARGE at once.
//   - On the 5th prefix byte a value above 0x0F (more than 32 bits, or a
//     continuation bit) fails with BAD_VARINT. That check comes first.
//   - A body that is not a valid Frame fails with MALFORMED_FRAME, a Frame
//     without a body with EMPTY_FRAME, and End inside a frame with TRUNCATED.
//   - After an error the decoder is failed: every later call returns the
//     same error. Frames completed before the error in the same chunk are
//     delivered first.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	maxFrameSize uint64
	err          *Error
	prefix       uint64 // value of the length prefix read so far
	prefixBytes  int    // bytes of it read (0: not inside a prefix)
	body         []byte // body being assembled across chunks (nil: none)
	bodyFilled   int
	frames       int
}

// NewDecoder returns a decoder accepting frames of at most maxFrameSize
// bytes (0: DefaultMaxFrameSize). maxFrameSize must be in 0..MaxFrameSizeLimit.
func NewDecoder(maxFrameSize int) (*Decoder, error) {
	if maxFrameSize == 0 {
		maxFrameSize = DefaultMaxFrameSize
	}
	if maxFrameSize < 1 || maxFrameSize > MaxFrameSizeLimit {
		return nil, fmt.Errorf("maxFrameSize must be in 1..%d, got %d", MaxFrameSizeLimit, maxFrameSize)
	}
	return &Decoder{maxFrameSize: uint64(maxFrameSize)}, nil
}

// Err is the error that failed the decoder, or nil.
func (d *Decoder) Err() error {
	if d.err == nil {
		return nil
	}
	return d.err
}

// Buffered is the number of bytes held for an incomplete frame.
func (d *Decoder) Buffered() int {
	if d.body == nil {
		return d.prefixBytes
	}
	return d.bodyFilled
}

// Frames is the number of frames decoded so far.
func (d *Decoder) Frames() int { return d.frames }

// Push feeds a chunk and calls onFrame for each whole frame it completes.
// It returns nil or the *Error that failed the decoder. The decoder does not
// keep chunk after Push returns (frames are decoded from copies).
func (d *Decoder) Push(chunk []byte, onFrame func(*hbv1.Frame)) error {
	if d.err != nil {
		return d.err
	}
	n := len(chunk)
	pos := 0

	if d.body != nil {
		take := min(n, len(d.body)-d.bodyFilled)
		copy(d.body[d.bodyFilled:], chunk[:take])
		d.bodyFilled += take
		pos = take
		if d.bodyFilled < len(d.body) {
			return nil
		}
		body := d.body
		d.body, d.bodyFilled = nil, 0
		if err := d.emit(body, onFrame); err != nil {
			return err
		}
	}

	for pos < n {
		done := false
		for pos < n {
			b := chunk[pos]
			pos++
			if d.prefixBytes == MaxLengthPrefixBytes-1 && b > 0x0f {
				return d.fail(hbv1.ErrorCode_ERROR_CODE_BAD_VARINT, "length prefix is not a 32-bit varint")
			}
			d.prefix += uint64(b&0x7f) << (7 * d.prefixBytes)
			d.prefixBytes++
			if d.prefix > d.maxFrameSize {
				return d.fail(hbv1.ErrorCode_ERROR_CODE_FRAME_TOO_LARGE,
					"frame length exceeds the maximum of %d bytes", d.maxFrameSize)
			}
			if b&0x80 == 0 {
				done = true
				break
			}
		}
		if !done {
			return nil
		}
		length := int(d.prefix)
		d.prefix, d.prefixBytes = 0, 0
		if n-pos >= length {
			view := chunk[pos : pos+length]
			pos += length
			if err := d.emit(view, onFrame); err != nil {
				return err
			}
		} else {
			d.body = make([]byte, length)
			d.bodyFilled = copy(d.body, chunk[pos:])
			return nil
		}
	}
	return nil
}

// End signals the end of the stream. It returns TRUNCATED if the stream
// ended inside a frame (or its length prefix), the earlier error if the
// decoder had failed, else nil.
func (d *Decoder) End() error {
	if d.err != nil {
		return d.err
	}
	if d.body != nil || d.prefixBytes > 0 {
		return d.fail(hbv1.ErrorCode_ERROR_CODE_TRUNCATED, "stream ended inside a frame")
	}
	return nil
}

func (d *Decoder) emit(b []byte, onFrame func(*hbv1.Frame)) error {
	f, err := DecodeFrame(b)
	if err != nil {
		d.err = err.(*Error)
		d.body = nil
		return d.err
	}
	d.frames++
	onFrame(f)
	return nil
}

func (d *Decoder) fail(code hbv1.ErrorCode, format string, args ...any) error {
	d.err = newError(code, format, args...)
	d.body = nil
	d.prefix, d.prefixBytes = 0, 0
	return d.err
}

// DecodeFrames decodes every frame in a complete byte string (e.g. a
// conformance vector). It fails like Decoder, and with TRUNCATED if b ends
// inside a frame.
func DecodeFrames(b []byte, maxFrameSize int) ([]*hbv1.Frame, error) {
	d, err := NewDecoder(maxFrameSize)
	if err != nil {
		return nil, err
	}
	var frames []*hbv1.Frame
	if err := d.Push(b, func(f *hbv1.Frame) { frames = append(frames, f) }); err != nil {
		return frames, err
	}
	return frames, d.End()
}

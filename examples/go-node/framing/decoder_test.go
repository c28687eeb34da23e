package framing

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	hbv1 "hb.example/go-node/gen/hb/v1"
)

func hb(seq uint64) *hbv1.Frame {
	return &hbv1.Frame{Body: &hbv1.Frame_Heartbeat{Heartbeat: &hbv1.Heartbeat{Seq: seq}}}
}

func wire(t *testing.T, frames ...*hbv1.Frame) []byte {
	t.Helper()
	var b []byte
	for _, f := range frames {
		var err error
		if b, err = AppendFrame(b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.CodeName()
	}
	return "<none>"
}

func TestNewDecoderRange(t *testing.T) {
	for _, n := range []int{-1, MaxFrameSizeLimit + 1} {
		if _, err := NewDecoder(n); err == nil {
			t.Errorf("NewDecoder(%d) accepted", n)
		}
	}
	d, err := NewDecoder(0)
	if err != nil || d.maxFrameSize != DefaultMaxFrameSize {
		t.Fatalf("NewDecoder(0): %v, %d", err, d.maxFrameSize)
	}
}

// Any way of cutting a stream into chunks yields the same frames.
func TestChunkingDoesNotMatter(t *testing.T) {
	var frames []*hbv1.Frame
	for i := range 50 {
		frames = append(frames, hb(uint64(i)), &hbv1.Frame{Channel: uint32(i), Body: &hbv1.Frame_Publish{Publish: &hbv1.Publish{
			Subject: "a.b", Payload: bytes.Repeat([]byte{byte(i)}, i*37)}}})
	}
	stream := wire(t, frames...)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		d, _ := NewDecoder(0)
		var got []*hbv1.Frame
		for pos := 0; pos < len(stream); {
			n := 1 + rng.IntN(max(1, len(stream)/(1+round%20)))
			end := min(pos+n, len(stream))
			if err := d.Push(stream[pos:end], func(f *hbv1.Frame) { got = append(got, f) }); err != nil {
				t.Fatal(err)
			}
			pos = end
		}
		if err := d.End(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(frames) {
			t.Fatalf("round %d: %d frames, want %d", round, len(got), len(frames))
		}
		for i := range got {
			if !proto.Equal(got[i], frames[i]) {
				t.Fatalf("round %d: frame %d differs", round, i)
			}
		}
	}
}

func TestErrorIsSticky(t *testing.T) {
	d, _ := NewDecoder(0)
	var n int
	err := d.Push(append(wire(t, hb(1), hb(2)), 0x00, 0x02, 0x3a, 0x00), func(*hbv1.Frame) { n++ })
	if code(err) != "EMPTY_FRAME" || n != 2 {
		t.Fatalf("got %s after %d frames, want EMPTY_FRAME after 2", code(err), n)
	}
	if err2 := d.Push(wire(t, hb(3)), func(*hbv1.Frame) { n++ }); err2 != err || n != 2 {
		t.Fatalf("a failed decoder went on: %v, %d frames", err2, n)
	}
	if d.End() != err || d.Err() != err {
		t.Fatal("End/Err do not return the same error")
	}
}

func TestSizeCheckedBeforeBuffering(t *testing.T) {
	d, _ := NewDecoder(1024)
	// 1025 = 81 08: fails on the second prefix byte, no body needed.
	if err := d.Push([]byte{0x81, 0x08}, func(*hbv1.Frame) {}); code(err) != "FRAME_TOO_LARGE" {
		t.Fatalf("got %v", err)
	}
	d, _ = NewDecoder(1024)
	// 1024 = 80 08: accepted, buffered as it arrives.
	if err := d.Push([]byte{0x80, 0x08, 0x3a}, func(*hbv1.Frame) {}); err != nil {
		t.Fatal(err)
	}
	if d.Buffered() != 1 {
		t.Fatalf("Buffered() = %d, want 1", d.Buffered())
	}
	if code(d.End()) != "TRUNCATED" {
		t.Fatal("want TRUNCATED")
	}
}

func TestDecodeFrameStrictWireTypes(t *testing.T) {
	cases := map[string]struct {
		hex  []byte
		want string
	}{
		"hello as varint":          {[]byte{0x10, 0x05}, "MALFORMED_FRAME"},
		"channel as group":         {[]byte{0x3a, 0x00, 0x0b, 0x0c}, "MALFORMED_FRAME"},
		"labels entry as varint":   {[]byte{0x12, 0x02, 0x18, 0x01}, "MALFORMED_FRAME"},
		"map key as varint":        {[]byte{0x12, 0x04, 0x1a, 0x02, 0x08, 0x01}, "MALFORMED_FRAME"},
		"packed handles":           {[]byte{0x62, 0x04, 0x0a, 0x02, 0x01, 0x02}, "<none>"},
		"unpacked handles":         {[]byte{0x62, 0x04, 0x08, 0x01, 0x08, 0x02}, "<none>"},
		"unknown field any type":   {[]byte{0xa5, 0x06, 1, 2, 3, 4, 0x3a, 0x00}, "<none>"},
		"only unknown fields":      {[]byte{0xa0, 0x06, 0x01}, "EMPTY_FRAME"},
		"empty heartbeat is valid": {[]byte{0x3a, 0x00}, "<none>"},
	}
	for name, c := range cases {
		_, err := DecodeFrame(c.hex)
		if code(err) != c.want {
			t.Errorf("%s: got %s (%v), want %s", name, code(err), err, c.want)
		}
	}
}

func TestCodeNames(t *testing.T) {
	if CodeName(hbv1.ErrorCode_ERROR_CODE_BAD_VARINT) != "BAD_VARINT" || CodeName(999) != "UNKNOWN_999" {
		t.Fatal("CodeName")
	}
	if c, ok := CodeByName("TRUNCATED"); !ok || c != hbv1.ErrorCode_ERROR_CODE_TRUNCATED {
		t.Fatal("CodeByName")
	}
}

// Nesting: Frame is depth 1, so 99 nested unknown groups in a Frame decode
// and 100 do not, as in the TypeScript codec; inside a body (depth 2) the
// limit is one less.
func TestNestingLimit(t *testing.T) {
	nested := func(n int, inBody bool) []byte {
		inner := append(bytes.Repeat([]byte{0x9b, 0x06}, n), bytes.Repeat([]byte{0x9c, 0x06}, n)...)
		if inBody {
			return append([]byte{0x3a, byte(len(inner)), 0x01}[:2], inner...)
		}
		return append(inner, 0x3a, 0x00)
	}
	for _, c := range []struct {
		n      int
		inBody bool
		want   string
	}{{99, false, "<none>"}, {100, false, "MALFORMED_FRAME"}, {5000, false, "MALFORMED_FRAME"}, {30, true, "<none>"}} {
		if _, err := DecodeFrame(nested(c.n, c.inBody)); code(err) != c.want {
			t.Errorf("%d groups (in body %v): got %s, want %s", c.n, c.inBody, code(err), c.want)
		}
	}
}

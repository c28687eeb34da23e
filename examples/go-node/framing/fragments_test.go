package framing

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	hbv1 "hb.example/go-node/gen/hb/v1"
)

func publish(n int) *hbv1.Frame {
	return &hbv1.Frame{Channel: 5, Body: &hbv1.Frame_Publish{Publish: &hbv1.Publish{Payload: bytes.Repeat([]byte("p"), n)}}}
}

func TestCutAndReassemble(t *testing.T) {
	a, b := publish(3000), publish(1500)
	ab, _ := Marshal(a)
	bb, _ := Marshal(b)
	fa := Cut(ab, a.Channel, 7, 1000)
	fb := Cut(bb, b.Channel, 8, 1000)
	if len(fa) != 4 || len(fb) != 2 || fa[0].GetFragment().TotalLength != uint64(len(ab)) || fa[1].GetFragment().TotalLength != 0 {
		t.Fatalf("cut: %d and %d pieces", len(fa), len(fb))
	}
	for _, f := range append(fa, fb...) {
		if f.Channel != 5 {
			t.Fatal("fragments must carry the frame's channel")
		}
	}
	r := Reassembler{MaxMessageSize: 1 << 20}
	var got []*hbv1.Frame
	for _, f := range []*hbv1.Frame{fa[0], fb[0], fa[1], fb[1], fa[2], fa[3]} { // interleaved
		w, err := r.Add(f.GetFragment())
		if err != nil {
			t.Fatal(err)
		}
		if w != nil {
			got = append(got, w)
		}
	}
	if len(got) != 2 || !proto.Equal(got[0], b) || !proto.Equal(got[1], a) {
		t.Fatalf("reassembled %v", got)
	}
	if r.held != 0 || len(r.parts) != 0 {
		t.Fatal("reassembler keeps bytes after completion")
	}
}

func TestReassemblerRules(t *testing.T) {
	frag := func(id uint32, total uint64, data string, final bool) *hbv1.Fragment {
		return &hbv1.Fragment{Id: id, TotalLength: total, Data: []byte(data), Final: final}
	}
	cases := map[string]struct {
		max   uint64
		frags []*hbv1.Fragment
		want  string
	}{
		"no fragments allowed":   {0, []*hbv1.Fragment{frag(1, 2, "ab", true)}, "MESSAGE_TOO_LARGE"},
		"first without total":    {100, []*hbv1.Fragment{frag(1, 0, "ab", false)}, "PROTOCOL_VIOLATION"},
		"total over max":         {100, []*hbv1.Fragment{frag(1, 101, "ab", false)}, "MESSAGE_TOO_LARGE"},
		"more than announced":    {100, []*hbv1.Fragment{frag(1, 3, "ab", false), frag(1, 0, "cd", true)}, "PROTOCOL_VIOLATION"},
		"final short":            {100, []*hbv1.Fragment{frag(1, 5, "ab", true)}, "PROTOCOL_VIOLATION"},
		"held bytes over max":    {10, []*hbv1.Fragment{frag(1, 10, "abcdef", false), frag(2, 10, "abcdef", false)}, "MESSAGE_TOO_LARGE"},
		"reassembled not frames": {100, []*hbv1.Fragment{frag(1, 2, "\x0f\x00", true)}, "MALFORMED_FRAME"},
	}
	for name, c := range cases {
		r := Reassembler{MaxMessageSize: c.max}
		var err error
		for _, f := range c.frags {
			if _, err = r.Add(f); err != nil {
				break
			}
		}
		if code(err) != c.want {
			t.Errorf("%s: got %s (%v), want %s", name, code(err), err, c.want)
		}
	}

	// A reassembled Fragment is a violation.
	inner, _ := Marshal(&hbv1.Frame{Body: &hbv1.Frame_Fragment{Fragment: frag(9, 1, "x", true)}})
	r := Reassembler{MaxMessageSize: 100}
	if _, err := r.Add(frag(1, uint64(len(inner)), string(inner), true)); code(err) != "PROTOCOL_VIOLATION" {
		t.Errorf("nested: got %v", err)
	}

	// At most 16 unfinished ids.
	r = Reassembler{MaxMessageSize: 1000}
	for id := range uint32(MaxUnfinished) {
		if _, err := r.Add(frag(id, 10, "a", false)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Add(frag(99, 10, "a", false)); code(err) != "MESSAGE_TOO_LARGE" {
		t.Errorf("17th unfinished id: got %v", err)
	}
}

func TestPieceSize(t *testing.T) {
	if PieceSize(1<<20) != MaxFragmentPiece || PieceSize(1024) != 1024-FragmentEnvelope {
		t.Fatal("PieceSize")
	}
	// Every piece with its envelope fits the peer's max frame size.
	body := bytes.Repeat([]byte{0xff}, 5000)
	for _, f := range Cut(body, 0xffffffff, 0xffffffff, PieceSize(1024)) {
		b, _ := Marshal(f)
		if len(b) > 1024 {
			t.Fatalf("fragment frame of %d bytes > 1024", len(b))
		}
	}
}

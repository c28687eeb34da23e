package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"hb.example/go-node/framing"
	hbv1 "hb.example/go-node/gen/hb/v1"
)

type entry struct {
	Name   string `json:"name"`
	Bin    string `json:"bin"`
	JSON   string `json:"json"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

type manifest struct {
	ProtocolVersion     int     `json:"protocolVersion"`
	DefaultMaxFrameSize int     `json:"defaultMaxFrameSize"`
	Valid               []entry `json:"valid"`
	Noncanonical        []entry `json:"noncanonical"`
	Invalid             []entry `json:"invalid"`
}

// vector is the .json beside a .bin.
type vector struct {
	Description  string            `json:"description"`
	Frame        json.RawMessage   `json:"frame"`
	Frames       []json.RawMessage `json:"frames"`
	Reassembled  []json.RawMessage `json:"reassembled"`
	Error        string            `json:"error"`
	MaxFrameSize int               `json:"maxFrameSize"`
	FramesBefore int               `json:"framesBefore"`
}

func testdataDir() string {
	if d := os.Getenv("HB_TESTDATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "proto", "testdata")
}

func load(t *testing.T) (string, manifest) {
	t.Helper()
	dir := testdataDir()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("no conformance vectors: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if m.ProtocolVersion != 1 {
		t.Fatalf("manifest is for protocol version %d, this node speaks 1", m.ProtocolVersion)
	}
	if m.DefaultMaxFrameSize != framing.DefaultMaxFrameSize {
		t.Fatalf("manifest defaultMaxFrameSize %d, framing.DefaultMaxFrameSize %d", m.DefaultMaxFrameSize, framing.DefaultMaxFrameSize)
	}
	if len(m.Valid) == 0 || len(m.Invalid) == 0 {
		t.Fatalf("manifest lists %d valid and %d invalid vectors", len(m.Valid), len(m.Invalid))
	}
	return dir, m
}

func read(t *testing.T, dir string, e entry) ([]byte, vector) {
	t.Helper()
	bin, err := os.ReadFile(filepath.Join(dir, e.Bin))
	if err != nil {
		t.Fatal(err)
	}
	if len(bin) != e.Size {
		t.Fatalf("%s: %d bytes, manifest says %d", e.Bin, len(bin), e.Size)
	}
	if sum := sha256.Sum256(bin); hex.EncodeToString(sum[:]) != e.SHA256 {
		t.Fatalf("%s: sha256 differs from the manifest", e.Bin)
	}
	raw, err := os.ReadFile(filepath.Join(dir, e.JSON))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", e.JSON, err)
	}
	return bin, v
}

// expected returns the frames a vector's JSON describes.
func (v vector) expected(t *testing.T) []json.RawMessage {
	t.Helper()
	if v.Frame != nil {
		return []json.RawMessage{v.Frame}
	}
	if v.Frames == nil {
		t.Fatal(`vector has neither "frame" nor "frames"`)
	}
	return v.Frames
}

func parseFrame(t *testing.T, raw json.RawMessage) *hbv1.Frame {
	t.Helper()
	f := &hbv1.Frame{}
	if err := protojson.Unmarshal(raw, f); err != nil {
		t.Fatalf("JSON %s is not a Frame: %v", raw, err)
	}
	return f
}

// sameJSON compares two JSON texts as values (key order and spacing aside).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// decodeChunked pushes b in pieces of size n (and the rest), like a socket would.
func decodeChunked(b []byte, maxFrameSize, n int) ([]*hbv1.Frame, error) {
	d, err := framing.NewDecoder(maxFrameSize)
	if err != nil {
		return nil, err
	}
	var frames []*hbv1.Frame
	for off := 0; off < len(b); off += n {
		if err := d.Push(b[off:min(off+n, len(b))], func(f *hbv1.Frame) { frames = append(frames, f) }); err != nil {
			return frames, err
		}
	}
	return frames, d.End()
}

// checkDecodes asserts that bin decodes, whole and in chunks of 1 and 7
// bytes, to exactly the frames of want, and that each decoded frame's
// canonical JSON is the vector's JSON.
func checkDecodes(t *testing.T, bin []byte, want []json.RawMessage) []*hbv1.Frame {
	t.Helper()
	got, err := framing.DecodeFrames(bin, 0)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d frames, the JSON has %d", len(got), len(want))
	}
	for i, f := range got {
		if exp := parseFrame(t, want[i]); !proto.Equal(f, exp) {
			t.Errorf("frame %d: decoded %v, JSON says %v", i, f, exp)
		}
		js, err := protojson.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if !sameJSON(t, js, want[i]) {
			t.Errorf("frame %d: canonical JSON %s, vector has %s", i, js, want[i])
		}
	}
	for _, n := range []int{1, 7} {
		chunked, err := decodeChunked(bin, 0, n)
		if err != nil {
			t.Fatalf("decode in %d-byte chunks: %v", n, err)
		}
		if len(chunked) != len(got) {
			t.Fatalf("decode in %d-byte chunks: %d frames, whole: %d", n, len(chunked), len(got))
		}
		for i := range got {
			if !proto.Equal(chunked[i], got[i]) {
				t.Errorf("decode in %d-byte chunks: frame %d differs", n, i)
			}
		}
	}
	return got
}

func TestValidVectors(t *testing.T) {
	dir, m := load(t)
	for _, e := range m.Valid {
		t.Run(e.Name, func(t *testing.T) {
			bin, v := read(t, dir, e)
			want := v.expected(t)
			got := checkDecodes(t, bin, want)

			// Encode: the JSON's frames re-encode to exactly the golden bytes.
			var enc []byte
			for _, raw := range want {
				var err error
				if enc, err = framing.AppendFrame(enc, parseFrame(t, raw)); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(enc, bin) {
				t.Errorf("encoding the JSON gives %x, golden bytes are %x", enc, bin)
			}

			if v.Reassembled != nil {
				var r framing.Reassembler
				r.MaxMessageSize = 16 << 20
				var whole []*hbv1.Frame
				for _, f := range got {
					if frag := f.GetFragment(); frag != nil {
						w, err := r.Add(frag)
						if err != nil {
							t.Fatalf("reassembly: %v", err)
						}
						if w != nil {
							whole = append(whole, w)
						}
					}
				}
				if len(whole) != len(v.Reassembled) {
					t.Fatalf("reassembled %d frames, the JSON lists %d", len(whole), len(v.Reassembled))
				}
				for i, w := range whole {
					if exp := parseFrame(t, v.Reassembled[i]); !proto.Equal(w, exp) {
						t.Errorf("reassembled frame %d: %v, JSON says %v", i, w, exp)
					}
				}
			}
		})
	}
}

func TestNoncanonicalVectors(t *testing.T) {
	dir, m := load(t)
	for _, e := range m.Noncanonical {
		t.Run(e.Name, func(t *testing.T) {
			bin, v := read(t, dir, e)
			checkDecodes(t, bin, v.expected(t))
		})
	}
}

func TestInvalidVectors(t *testing.T) {
	dir, m := load(t)
	for _, e := range m.Invalid {
		t.Run(e.Name, func(t *testing.T) {
			bin, v := read(t, dir, e)
			if _, ok := framing.CodeByName(v.Error); !ok {
				t.Fatalf("unknown error name %q", v.Error)
			}
			for _, n := range []int{len(bin) + 1, 1, 3} {
				frames, err := decodeChunked(bin, v.MaxFrameSize, max(n, 1))
				ferr, ok := err.(*framing.Error)
				if !ok {
					t.Fatalf("chunks of %d: want %s, got %v", n, v.Error, err)
				}
				if ferr.CodeName() != v.Error {
					t.Errorf("chunks of %d: want %s, got %s (%s)", n, v.Error, ferr.CodeName(), ferr.Message)
				}
				if len(frames) != v.FramesBefore {
					t.Errorf("chunks of %d: %d frames before the error, want %d", n, len(frames), v.FramesBefore)
				}
			}
		})
	}
}

// Every vector file on disk is in the manifest, and the other way round.
func TestManifestComplete(t *testing.T) {
	dir, m := load(t)
	listed := map[string]bool{}
	for _, list := range [][]entry{m.Valid, m.Noncanonical, m.Invalid} {
		for _, e := range list {
			listed[e.Bin], listed[e.JSON] = true, true
		}
	}
	var unlisted []string
	for _, sub := range []string{"valid", "noncanonical", "invalid"} {
		names, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, n := range names {
			rel := sub + "/" + n.Name()
			if !listed[rel] {
				unlisted = append(unlisted, rel)
			}
			delete(listed, rel)
		}
	}
	sort.Strings(unlisted)
	if len(unlisted) > 0 {
		t.Errorf("files not in manifest.json: %v", unlisted)
	}
	if len(listed) > 0 {
		t.Errorf("manifest.json lists missing files: %v", listed)
	}
}

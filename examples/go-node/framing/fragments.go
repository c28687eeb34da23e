package framing

import (
	hbv1 "hb.example/go-node/gen/hb/v1"
)

const (
	// FragmentEnvelope is what a piece leaves for the Fragment frame around
	// it: pieces of at most maxFrameSize - FragmentEnvelope always fit
	// (docs/PROTOCOL.md §11).
	FragmentEnvelope = 64
	// MaxFragmentPiece is the largest piece sent, so that a heartbeat never
	// waits behind more than 64 KiB (§6.2, §11).
	MaxFragmentPiece = 64 << 10
	// MaxUnfinished is how many fragmented frames a sender may have
	// unfinished on a connection (§11).
	MaxUnfinished = 16
)

// Cut cuts body, the protobuf encoding of a whole Frame on the given
// channel, into Fragment frames of at most piece bytes of data each: the
// first carries total_length, the last final.
func Cut(body []byte, channel uint32, id uint32, piece int) []*hbv1.Frame {
	piece = max(piece, 1)
	var out []*hbv1.Frame
	for off := 0; off < len(body); off += piece {
		end := min(off+piece, len(body))
		frag := &hbv1.Fragment{Id: id, Data: body[off:end], Final: end == len(body)}
		if off == 0 {
			frag.TotalLength = uint64(len(body))
		}
		out = append(out, &hbv1.Frame{Channel: channel, Body: &hbv1.Frame_Fragment{Fragment: frag}})
	}
	return out
}

// PieceSize is the data size of the pieces to send to a peer that accepts
// frames of maxFrameSize bytes.
func PieceSize(maxFrameSize int) int {
	return min(maxFrameSize-FragmentEnvelope, MaxFragmentPiece)
}

// Reassembler collects Fragment frames by id and returns each whole Frame
// once its final piece has arrived (docs/PROTOCOL.md §11). Every error is
// fatal for the connection:
//   - MESSAGE_TOO_LARGE: fragments while MaxMessageSize is 0, a
//     total_length over MaxMessageSize, more than MaxUnfinished unfinished
//     ids, or more than MaxMessageSize bytes held for them together;
//   - PROTOCOL_VIOLATION: a first piece without total_length, data beyond
//     total_length, a final piece short of it, a fragment inside a fragment;
//   - the decoding errors of the reassembled bytes.
//
// It holds bytes as they arrive, never allocating on total_length alone.
type Reassembler struct {
	// MaxMessageSize is Welcome.max_message_size: the largest reassembled
	// frame, in bytes; 0 means no fragments on the connection.
	MaxMessageSize uint64
	parts          map[uint32]*partial
	held           uint64
}

type partial struct {
	total uint64
	data  []byte
}

// Add takes one Fragment; it returns the reassembled Frame after the final
// piece, else nil.
func (r *Reassembler) Add(frag *hbv1.Fragment) (*hbv1.Frame, error) {
	const tooLarge, violation = hbv1.ErrorCode_ERROR_CODE_MESSAGE_TOO_LARGE, hbv1.ErrorCode_ERROR_CODE_PROTOCOL_VIOLATION
	if r.MaxMessageSize == 0 {
		return nil, newError(tooLarge, "fragments are not allowed on this connection (max_message_size 0)")
	}
	if r.parts == nil {
		r.parts = map[uint32]*partial{}
	}
	p := r.parts[frag.Id]
	if p == nil {
		switch {
		case frag.TotalLength == 0:
			return nil, newError(violation, "first fragment of id %d has no total_length", frag.Id)
		case frag.TotalLength > r.MaxMessageSize:
			return nil, newError(tooLarge, "fragmented frame of %d bytes exceeds the maximum of %d", frag.TotalLength, r.MaxMessageSize)
		case len(r.parts) >= MaxUnfinished:
			return nil, newError(tooLarge, "more than %d unfinished fragmented frames", MaxUnfinished)
		}
		p = &partial{total: frag.TotalLength}
		r.parts[frag.Id] = p
	}
	if uint64(len(p.data))+uint64(len(frag.Data)) > p.total {
		return nil, newError(violation, "fragments of id %d exceed their total_length %d", frag.Id, p.total)
	}
	if r.held+uint64(len(frag.Data)) > r.MaxMessageSize {
		return nil, newError(tooLarge, "unfinished fragmented frames hold more than %d bytes", r.MaxMessageSize)
	}
	p.data = append(p.data, frag.Data...)
	r.held += uint64(len(frag.Data))
	if !frag.Final {
		return nil, nil
	}
	delete(r.parts, frag.Id)
	r.held -= uint64(len(p.data))
	if uint64(len(p.data)) != p.total {
		return nil, newError(violation, "fragments of id %d have %d bytes, total_length says %d", frag.Id, len(p.data), p.total)
	}
	f, err := DecodeFrame(p.data)
	if err != nil {
		return nil, err
	}
	if _, nested := f.Body.(*hbv1.Frame_Fragment); nested {
		return nil, newError(violation, "a fragment inside a fragment")
	}
	return f, nil
}

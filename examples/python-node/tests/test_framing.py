"""Unit tests of hbnode.framing and hbnode.backoff beyond the conformance vectors."""

import random

import pytest

from hbnode.backoff import backoff_delay
from hbnode.errors import HbError, code_by_name, code_name
from hbnode.framing import (
    MAX_FRAGMENT_PIECE,
    MAX_UNFINISHED,
    Decoder,
    Reassembler,
    cut,
    decode_frame,
    encode_frame,
    marshal,
    piece_size,
)
from hbnode.pb import Frame, channel_pb2, flow_pb2, liveness_pb2


def hb(seq):
    return Frame(heartbeat=liveness_pb2.Heartbeat(seq=seq))


def test_chunking_does_not_matter():
    frames = []
    for i in range(50):
        frames += [hb(i), Frame(channel=i, publish=channel_pb2.Publish(subject="a.b", payload=bytes([i]) * (i * 37)))]
    stream = b"".join(encode_frame(f) for f in frames)
    rng = random.Random(1)
    for rnd in range(100):
        d = Decoder()
        got = []
        pos = 0
        while pos < len(stream):
            n = 1 + rng.randrange(max(1, len(stream) // (1 + rnd % 20)))
            assert d.push(stream[pos:pos + n], got.append) is None
            pos += n
        assert d.end() is None
        assert got == frames


def test_error_is_sticky_and_frames_before_it_are_delivered():
    d = Decoder()
    got = []
    err = d.push(encode_frame(hb(1)) + encode_frame(hb(2)) + b"\x00" + encode_frame(hb(3)), got.append)
    assert err.code_name == "EMPTY_FRAME" and len(got) == 2
    assert d.push(encode_frame(hb(4)), got.append) is err and len(got) == 2
    assert d.end() is err


def test_size_checked_before_buffering():
    assert Decoder(1024).push(b"\x81\x08", lambda f: None).code_name == "FRAME_TOO_LARGE"
    d = Decoder(1024)
    assert d.push(b"\x80\x08\x3a", lambda f: None) is None
    assert d.buffered == 1
    assert d.end().code_name == "TRUNCATED"
    with pytest.raises(ValueError):
        Decoder(0)


@pytest.mark.parametrize(
    "data, want",
    [
        (b"\x10\x05", "MALFORMED_FRAME"),  # hello as a varint
        (b"\x3a\x00\x0b\x0c", "MALFORMED_FRAME"),  # channel as a group
        (b"\x12\x02\x18\x01", "MALFORMED_FRAME"),  # a labels entry as a varint
        (b"\x12\x04\x1a\x02\x08\x01", "MALFORMED_FRAME"),  # a map key as a varint
        (b"\x62\x04\x0a\x02\x01\x02", None),  # packed handles
        (b"\x62\x04\x08\x01\x08\x02", None),  # unpacked handles
        (b"\xa5\x06\x01\x02\x03\x04\x3a\x00", None),  # unknown fixed32 field
        (b"\xa0\x06\x01", "EMPTY_FRAME"),
        (b"\x3a\x00", None),
    ],
)
def test_decode_frame_strict_wire_types(data, want):
    try:
        decode_frame(data)
        got = None
    except HbError as err:
        got = err.code_name
    assert got == want


def test_code_names():
    assert code_name(1) == "BAD_VARINT" and code_name(999) == "UNKNOWN_999"
    assert code_by_name("TRUNCATED") == 5


def test_cut_and_reassemble_interleaved():
    a = Frame(channel=5, publish=channel_pb2.Publish(payload=b"p" * 3000))
    b = Frame(channel=5, publish=channel_pb2.Publish(payload=b"q" * 1500))
    fa, fb = cut(marshal(a), 5, 7, 1000), cut(marshal(b), 5, 8, 1000)
    assert len(fa) == 4 and len(fb) == 2
    assert fa[0].fragment.total_length == len(marshal(a)) and fa[1].fragment.total_length == 0
    assert all(f.channel == 5 for f in fa + fb)
    r = Reassembler(1 << 20)
    got = [w for f in (fa[0], fb[0], fa[1], fb[1], fa[2], fa[3]) if (w := r.add(f.fragment)) is not None]
    assert got == [b, a]


def frag(i, total, data, final):
    return flow_pb2.Fragment(id=i, total_length=total, data=data, final=final)


@pytest.mark.parametrize(
    "max_size, frags, want",
    [
        (0, [frag(1, 2, b"ab", True)], "MESSAGE_TOO_LARGE"),
        (100, [frag(1, 0, b"ab", False)], "PROTOCOL_VIOLATION"),
        (100, [frag(1, 101, b"ab", False)], "MESSAGE_TOO_LARGE"),
        (100, [frag(1, 3, b"ab", False), frag(1, 0, b"cd", True)], "PROTOCOL_VIOLATION"),
        (100, [frag(1, 5, b"ab", True)], "PROTOCOL_VIOLATION"),
        (10, [frag(1, 10, b"abcdef", False), frag(2, 10, b"abcdef", False)], "MESSAGE_TOO_LARGE"),
        (100, [frag(1, 2, b"\x0f\x00", True)], "MALFORMED_FRAME"),
    ],
)
def test_reassembler_rules(max_size, frags, want):
    r = Reassembler(max_size)
    with pytest.raises(HbError) as exc:
        for f in frags:
            r.add(f)
    assert exc.value.code_name == want


def test_reassembler_nested_and_unfinished_limit():
    inner = marshal(Frame(fragment=frag(9, 1, b"x", True)))
    with pytest.raises(HbError) as exc:
        Reassembler(100).add(frag(1, len(inner), inner, True))
    assert exc.value.code_name == "PROTOCOL_VIOLATION"
    r = Reassembler(1000)
    for i in range(MAX_UNFINISHED):
        r.add(frag(i, 10, b"a", False))
    with pytest.raises(HbError) as exc:
        r.add(frag(99, 10, b"a", False))
    assert exc.value.code_name == "MESSAGE_TOO_LARGE"


def test_pieces_fit():
    assert piece_size(1 << 20) == MAX_FRAGMENT_PIECE and piece_size(1024) == 1024 - 64
    for f in cut(b"\xff" * 5000, 0xFFFFFFFF, 0xFFFFFFFF, piece_size(1024)):
        assert len(marshal(f)) <= 1024


def test_backoff_full_jitter():
    for attempt, window in enumerate([0.1, 0.2, 0.4, 0.8, 1.0, 1.0]):
        top = backoff_delay(attempt, 0.1, 1.0, lambda: 0.999999)
        assert window - 0.002 <= top < window
        assert backoff_delay(attempt, 0.1, 1.0, lambda: 0.0) == 0
    assert backoff_delay(10_000, 0.1, 1.0, lambda: 0.5) == 0.5
    assert backoff_delay(0, 0.1, 1.0, lambda: 7) == 0


@pytest.mark.parametrize("n, ok", [(99, True), (100, False), (5000, False)])
def test_nesting_limit(n, ok):
    """Frame is depth 1: 99 nested unknown groups decode, 100 do not (as in the TypeScript codec)."""
    data = b"\x9b\x06" * n + b"\x9c\x06" * n + b"\x3a\x00"
    if ok:
        decode_frame(data)
    else:
        with pytest.raises(HbError) as exc:
            decode_frame(data)
        assert exc.value.code_name == "MALFORMED_FRAME"

"""The hb v1 conformance vectors (proto/testdata) against the Python codec.

valid/: bytes decode to the JSON's frames (whole and in 1- and 7-byte
chunks), each decoded frame's canonical JSON is the vector's JSON, and the
JSON re-encodes to exactly the bytes; fragment streams reassemble to
"reassembled". noncanonical/: decode only. invalid/: decoding fails with the
named error after "framesBefore" frames, however the bytes are chunked.
Set HB_TESTDATA to read the vectors from elsewhere.
"""

import hashlib
import json
import os

import pytest
from google.protobuf import json_format

from hbnode.errors import code_by_name
from hbnode.framing import DEFAULT_MAX_FRAME_SIZE, Decoder, Reassembler, decode_frames, encode_frame
from hbnode.pb import Frame

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.environ.get("HB_TESTDATA") or os.path.join(HERE, "..", "..", "..", "proto", "testdata")


def _manifest():
    path = os.path.join(TESTDATA, "manifest.json")
    if not os.path.exists(path):
        pytest.fail(f"no conformance vectors at {path}", pytrace=False)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


MANIFEST = _manifest() if os.path.exists(os.path.join(TESTDATA, "manifest.json")) else {}


def _entries(kind):
    return [pytest.param(e, id=e["name"]) for e in MANIFEST.get(kind, [])]


def _read(entry):
    with open(os.path.join(TESTDATA, entry["bin"]), "rb") as f:
        data = f.read()
    assert len(data) == entry["size"], "size differs from the manifest"
    assert hashlib.sha256(data).hexdigest() == entry["sha256"], "sha256 differs from the manifest"
    with open(os.path.join(TESTDATA, entry["json"]), encoding="utf-8") as f:
        vector = json.load(f)
    return data, vector


def _expected(vector):
    if "frame" in vector:
        return [vector["frame"]]
    assert "frames" in vector, 'vector has neither "frame" nor "frames"'
    return vector["frames"]


def _parse(obj):
    return json_format.ParseDict(obj, Frame())


def _canonical_json(frame):
    return json.loads(json_format.MessageToJson(frame))


def _decode_chunked(data, max_frame_size, n):
    d = Decoder(max_frame_size)
    frames = []
    for off in range(0, len(data), n):
        err = d.push(data[off:off + n], frames.append)
        if err is not None:
            return frames, err
    return frames, d.end()


def _check_decodes(data, expected):
    got = decode_frames(data)
    assert len(got) == len(expected), f"decoded {len(got)} frames, the JSON has {len(expected)}"
    for i, (frame, want) in enumerate(zip(got, expected)):
        assert frame == _parse(want), f"frame {i} differs from the JSON"
        assert _canonical_json(frame) == want, f"frame {i}: canonical JSON differs"
    for n in (1, 7):
        chunked, err = _decode_chunked(data, DEFAULT_MAX_FRAME_SIZE, n)
        assert err is None, f"{n}-byte chunks: {err}"
        assert chunked == got, f"{n}-byte chunks decode differently"
    return got


def test_manifest():
    assert MANIFEST, f"no manifest.json in {TESTDATA}"
    assert MANIFEST["protocolVersion"] == 1
    assert MANIFEST["defaultMaxFrameSize"] == DEFAULT_MAX_FRAME_SIZE
    listed = {e[k] for kind in ("valid", "noncanonical", "invalid") for e in MANIFEST[kind] for k in ("bin", "json")}
    on_disk = {
        f"{kind}/{name}"
        for kind in ("valid", "noncanonical", "invalid")
        if os.path.isdir(os.path.join(TESTDATA, kind))
        for name in os.listdir(os.path.join(TESTDATA, kind))
    }
    assert on_disk - listed == set(), "files not in manifest.json"
    assert listed - on_disk == set(), "manifest.json lists missing files"


@pytest.mark.parametrize("entry", _entries("valid"))
def test_valid(entry):
    data, vector = _read(entry)
    expected = _expected(vector)
    got = _check_decodes(data, expected)
    encoded = b"".join(encode_frame(_parse(obj)) for obj in expected)
    assert encoded.hex() == data.hex(), "encoding the JSON does not give the golden bytes"
    if "reassembled" in vector:
        r = Reassembler(16 << 20)
        whole = [w for f in got if f.WhichOneof("body") == "fragment" for w in [r.add(f.fragment)] if w is not None]
        assert [_canonical_json(w) for w in whole] == vector["reassembled"]


@pytest.mark.parametrize("entry", _entries("noncanonical"))
def test_noncanonical(entry):
    data, vector = _read(entry)
    _check_decodes(data, _expected(vector))


@pytest.mark.parametrize("entry", _entries("invalid"))
def test_invalid(entry):
    data, vector = _read(entry)
    want = vector["error"]
    code_by_name(want)  # a name the schema knows
    max_frame_size = vector.get("maxFrameSize", DEFAULT_MAX_FRAME_SIZE)
    for n in (len(data) + 1, 1, 3):
        frames, err = _decode_chunked(data, max_frame_size, n)
        assert err is not None, f"{n}-byte chunks: decoded without error, want {want}"
        assert err.code_name == want, f"{n}-byte chunks: {err}"
        assert len(frames) == vector.get("framesBefore", 0), f"{n}-byte chunks: frames before the error"

"""hb v1 framing: a varint length prefix before each Frame.

:class:`Decoder` has the exact error semantics of the reference decoder
(``packages/codec/src/frame-decoder.ts``) and docs/PROTOCOL.md.
"""

from collections.abc import Callable

from google.protobuf.message import DecodeError

from .errors import HbError
from .pb import ErrorCode, Frame, flow_pb2
from .wire_types import WireError, check_wire_types

DEFAULT_MAX_FRAME_SIZE = 1 << 20
"""Default largest frame, bytes, length prefix excluded (1 MiB)."""
MAX_FRAME_SIZE_LIMIT = 64 << 20
"""Upper bound of any max frame size (64 MiB)."""
MAX_LENGTH_PREFIX_BYTES = 5
"""A frame length is a 32-bit varint: at most 5 bytes."""
FRAGMENT_ENVELOPE = 64
"""Pieces of at most max_frame_size - 64 bytes always fit in a Fragment frame (§11)."""
MAX_FRAGMENT_PIECE = 64 << 10
"""Largest piece sent, so that a heartbeat never waits behind more than 64 KiB."""
MAX_UNFINISHED = 16
"""Unfinished fragmented frames a sender may have on a connection."""

E = ErrorCode


def decode_frame(b: bytes) -> Frame:
    """Decodes one Frame (no length prefix).

    Raises HbError MALFORMED_FRAME (not protobuf, bad UTF-8, a known field
    with the wrong wire type) or EMPTY_FRAME (no known body).
    """
    try:
        check_wire_types(b, Frame.DESCRIPTOR)
        frame = Frame.FromString(b)
    except (WireError, DecodeError) as exc:
        raise HbError(E.ERROR_CODE_MALFORMED_FRAME, f"malformed frame: {exc}") from exc
    # Unknown fields are not kept: a peer must not make us hold bytes we never use.
    frame.DiscardUnknownFields()
    if frame.WhichOneof("body") is None:
        raise HbError(E.ERROR_CODE_EMPTY_FRAME, "frame has no body")
    return frame


def marshal(frame: Frame) -> bytes:
    """The canonical protobuf encoding of ``frame`` (map entries sorted by key, §3.5)."""
    return frame.SerializeToString(deterministic=True)


def prefixed(body: bytes) -> bytes:
    """``body`` with its varint length prefix."""
    return _varint(len(body)) + body


def encode_frame(frame: Frame) -> bytes:
    """The wire form of ``frame``: varint length, then the canonical protobuf bytes."""
    return prefixed(marshal(frame))


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class Decoder:
    """Streaming decoder: bytes in chunks of any size in, whole Frames out.

    - The max frame size is checked on the length prefix, byte by byte,
      before anything is buffered (FRAME_TOO_LARGE).
    - On the 5th prefix byte a value above 0x0F is BAD_VARINT (checked first).
    - MALFORMED_FRAME / EMPTY_FRAME come from :func:`decode_frame`;
      :meth:`end` inside a frame is TRUNCATED.
    - After an error every call returns the same error; frames completed
      earlier in the same chunk are delivered first.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE):
        if not 1 <= max_frame_size <= MAX_FRAME_SIZE_LIMIT:
            raise ValueError(f"max_frame_size must be in 1..{MAX_FRAME_SIZE_LIMIT}, got {max_frame_size}")
        self.max_frame_size = max_frame_size
        self.error: HbError | None = None
        self.frames = 0
        self._prefix = 0
        self._prefix_bytes = 0
        self._body: bytearray | None = None
        self._filled = 0

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame."""
        return self._prefix_bytes if self._body is None else self._filled

    def push(self, chunk: bytes, on_frame: Callable[[Frame], None]) -> HbError | None:
        """Feeds a chunk, calling ``on_frame`` per whole frame; returns None or the error."""
        if self.error is not None:
            return self.error
        n = len(chunk)
        pos = 0
        if self._body is not None:
            body = self._body
            take = min(n, len(body) - self._filled)
            body[self._filled:self._filled + take] = chunk[:take]
            self._filled += take
            pos = take
            if self._filled < len(body):
                return None
            self._body, self._filled = None, 0
            err = self._emit(bytes(body), on_frame)
            if err is not None:
                return err
        while pos < n:
            done = False
            while pos < n:
                b = chunk[pos]
                pos += 1
                if self._prefix_bytes == MAX_LENGTH_PREFIX_BYTES - 1 and b > 0x0F:
                    return self._fail(E.ERROR_CODE_BAD_VARINT, "length prefix is not a 32-bit varint")
                self._prefix += (b & 0x7F) << (7 * self._prefix_bytes)
                self._prefix_bytes += 1
                if self._prefix > self.max_frame_size:
                    return self._fail(
                        E.ERROR_CODE_FRAME_TOO_LARGE,
                        f"frame length exceeds the maximum of {self.max_frame_size} bytes",
                    )
                if b < 0x80:
                    done = True
                    break
            if not done:
                return None
            length = self._prefix
            self._prefix = self._prefix_bytes = 0
            if n - pos >= length:
                view = bytes(chunk[pos:pos + length])
                pos += length
                err = self._emit(view, on_frame)
                if err is not None:
                    return err
            else:
                body = bytearray(length)
                rest = chunk[pos:]
                body[:len(rest)] = rest
                self._body, self._filled = body, len(rest)
                return None
        return None

    def end(self) -> HbError | None:
        """Signals the end of the stream: TRUNCATED inside a frame, the earlier error, or None."""
        if self.error is not None:
            return self.error
        if self._body is not None or self._prefix_bytes > 0:
            return self._fail(E.ERROR_CODE_TRUNCATED, "stream ended inside a frame")
        return None

    def _emit(self, b: bytes, on_frame: Callable[[Frame], None]) -> HbError | None:
        try:
            frame = decode_frame(b)
        except HbError as err:
            self.error = err
            self._body = None
            return err
        self.frames += 1
        on_frame(frame)
        return None

    def _fail(self, code: int, message: str) -> HbError:
        self.error = HbError(code, message)
        self._body = None
        self._prefix = self._prefix_bytes = 0
        return self.error


def decode_frames(b: bytes, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> list[Frame]:
    """Decodes a complete byte string; raises HbError (TRUNCATED if it ends inside a frame)."""
    d = Decoder(max_frame_size)
    frames: list[Frame] = []
    err = d.push(b, frames.append) or d.end()
    if err is not None:
        raise err
    return frames


def cut(body: bytes, channel: int, frag_id: int, piece: int) -> list[Frame]:
    """Cuts ``body``, the encoding of a whole Frame on ``channel``, into
    Fragment frames of at most ``piece`` data bytes: total_length on the
    first, final on the last (docs/PROTOCOL.md §11)."""
    piece = max(piece, 1)
    out = []
    for off in range(0, len(body), piece):
        frag = flow_pb2.Fragment(id=frag_id, data=body[off:off + piece], final=off + piece >= len(body))
        if off == 0:
            frag.total_length = len(body)
        out.append(Frame(channel=channel, fragment=frag))
    return out


def piece_size(max_frame_size: int) -> int:
    """Data size of the pieces sent to a peer accepting ``max_frame_size``-byte frames."""
    return min(max_frame_size - FRAGMENT_ENVELOPE, MAX_FRAGMENT_PIECE)


class Reassembler:
    """Collects Fragment frames by id; :meth:`add` returns the whole Frame
    after the final piece (docs/PROTOCOL.md §11). Every error is fatal:

    - MESSAGE_TOO_LARGE: fragments while ``max_message_size`` is 0, a
      total_length over it, more than 16 unfinished ids, or more than
      ``max_message_size`` bytes held for them together;
    - PROTOCOL_VIOLATION: a first piece without total_length, data beyond
      total_length, a final piece short of it, a fragment inside a fragment;
    - the decoding errors of the reassembled bytes.

    Bytes are held as they arrive, never allocated on total_length alone.
    """

    def __init__(self, max_message_size: int = 0):
        self.max_message_size = max_message_size
        self._parts: dict[int, tuple[int, bytearray]] = {}
        self._held = 0

    def add(self, frag) -> Frame | None:
        too_large, violation = E.ERROR_CODE_MESSAGE_TOO_LARGE, E.ERROR_CODE_PROTOCOL_VIOLATION
        if self.max_message_size == 0:
            raise HbError(too_large, "fragments are not allowed on this connection (max_message_size 0)")
        entry = self._parts.get(frag.id)
        if entry is None:
            if frag.total_length == 0:
                raise HbError(violation, f"first fragment of id {frag.id} has no total_length")
            if frag.total_length > self.max_message_size:
                raise HbError(too_large, f"fragmented frame of {frag.total_length} bytes exceeds the maximum of {self.max_message_size}")
            if len(self._parts) >= MAX_UNFINISHED:
                raise HbError(too_large, f"more than {MAX_UNFINISHED} unfinished fragmented frames")
            entry = (frag.total_length, bytearray())
            self._parts[frag.id] = entry
        total, data = entry
        if len(data) + len(frag.data) > total:
            raise HbError(violation, f"fragments of id {frag.id} exceed their total_length {total}")
        if self._held + len(frag.data) > self.max_message_size:
            raise HbError(too_large, f"unfinished fragmented frames hold more than {self.max_message_size} bytes")
        data += frag.data
        self._held += len(frag.data)
        if not frag.final:
            return None
        del self._parts[frag.id]
        self._held -= len(data)
        if len(data) != total:
            raise HbError(violation, f"fragments of id {frag.id} have {len(data)} bytes, total_length says {total}")
        frame = decode_frame(bytes(data))
        if frame.WhichOneof("body") == "fragment":
            raise HbError(violation, "a fragment inside a fragment")
        return frame

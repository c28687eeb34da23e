"""Strict wire-type check of protobuf bytes against a message descriptor.

A field known to the schema that arrives with a wire type its declared type
cannot have (e.g. ``Frame.hello`` as a varint) makes the frame
MALFORMED_FRAME (docs/PROTOCOL.md; vectors ``malformed-wire-type-mismatch-*``).
The protobuf runtime would keep it as an unknown field instead, so this walk
runs before the real parse. It also rejects anything structurally broken
(bad tags, truncated values, unbalanced groups).
"""

from google.protobuf.descriptor import FieldDescriptor

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
# Nesting limit, counting Frame as 1 and each message or group inside one
# more: the TypeScript codec's (protobuf-es recursion limit 100). With it,
# 99 nested unknown groups directly in a Frame decode and 100 do not.
MAX_DEPTH = 100

_T = FieldDescriptor
_VARINT_TYPES = {
    _T.TYPE_BOOL, _T.TYPE_ENUM, _T.TYPE_INT32, _T.TYPE_SINT32, _T.TYPE_UINT32,
    _T.TYPE_INT64, _T.TYPE_SINT64, _T.TYPE_UINT64,
}
_I32_TYPES = {_T.TYPE_FIXED32, _T.TYPE_SFIXED32, _T.TYPE_FLOAT}
_I64_TYPES = {_T.TYPE_FIXED64, _T.TYPE_SFIXED64, _T.TYPE_DOUBLE}


class WireError(ValueError):
    """The bytes are not a valid encoding of the message."""


def read_varint(b: bytes, pos: int, end: int) -> tuple[int, int]:
    """Reads a varint of at most 10 bytes at ``pos``; returns (value, new pos)."""
    value = 0
    for i in range(10):
        if pos >= end:
            raise WireError("truncated varint")
        byte = b[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos
    raise WireError("varint longer than 10 bytes")


def _skip(b: bytes, pos: int, end: int, num: int, wt: int, depth: int) -> int:
    """Skips one field value of wire type ``wt``; returns the new position."""
    if wt == VARINT:
        return read_varint(b, pos, end)[1]
    if wt == I64:
        pos += 8
    elif wt == I32:
        pos += 4
    elif wt == LEN:
        n, pos = read_varint(b, pos, end)
        pos += n
    elif wt == SGROUP:
        if depth + 1 > MAX_DEPTH:
            raise WireError(f"nesting deeper than {MAX_DEPTH}")
        while True:
            tag, pos = read_varint(b, pos, end)
            fnum, fwt = tag >> 3, tag & 7
            if fnum == 0 or fnum > 0x1FFFFFFF or fwt > 5:
                raise WireError("invalid tag")
            if fwt == EGROUP:
                if fnum != num:
                    raise WireError("mismatched end group")
                return pos
            pos = _skip(b, pos, end, fnum, fwt, depth + 1)
    else:  # EGROUP without a start, or 6/7
        raise WireError(f"unexpected wire type {wt}")
    if pos > end:
        raise WireError("truncated field")
    return pos


def _fits(fd: FieldDescriptor, wt: int) -> bool:
    t = fd.type
    if t in _VARINT_TYPES:
        want = VARINT
    elif t in _I32_TYPES:
        want = I32
    elif t in _I64_TYPES:
        want = I64
    elif t == _T.TYPE_GROUP:
        want = SGROUP
    else:  # string, bytes, message (and map entries)
        want = LEN
    if wt == want:
        return True
    # Repeated scalars may come packed.
    return fd.is_repeated and wt == LEN and want in (VARINT, I32, I64)


def check_wire_types(b: bytes, desc, depth: int = 1, pos: int = 0, end: int | None = None) -> None:
    """Raises WireError if ``b[pos:end]`` is not a well-formed ``desc`` message
    (at nesting ``depth``, the Frame being 1) or a known field has a wire
    type its declared type cannot have."""
    if end is None:
        end = len(b)
    if depth > MAX_DEPTH:
        raise WireError(f"nesting deeper than {MAX_DEPTH}")
    by_number = desc.fields_by_number
    while pos < end:
        tag, pos = read_varint(b, pos, end)
        num, wt = tag >> 3, tag & 7
        if num == 0 or num > 0x1FFFFFFF:
            raise WireError(f"invalid field number {num}")
        if wt > 5:
            raise WireError(f"invalid wire type {wt}")
        fd = by_number.get(num)
        if fd is not None and not _fits(fd, wt):
            raise WireError(f"field {fd.name} (number {num}) has wire type {wt}")
        if fd is not None and wt == LEN and fd.type == _T.TYPE_MESSAGE:
            n, start = read_varint(b, pos, end)
            if start + n > end:
                raise WireError("truncated field")
            check_wire_types(b, fd.message_type, depth + 1, start, start + n)
            pos = start + n
        else:
            pos = _skip(b, pos, end, num, wt, depth)

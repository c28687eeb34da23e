"""HbError: a protocol-level failure with a stable ErrorCode."""

from .pb import ErrorCode


def code_name(code: int) -> str:
    """The enum name of ``code`` without ``ERROR_CODE_``; ``UNKNOWN_<n>`` if unknown."""
    try:
        return ErrorCode.Name(code).removeprefix("ERROR_CODE_")
    except ValueError:
        return f"UNKNOWN_{code}"


def code_by_name(name: str) -> int:
    """The inverse of :func:`code_name` (``"BAD_VARINT"`` → 1); ValueError if unknown."""
    return ErrorCode.Value("ERROR_CODE_" + name)


class HbError(Exception):
    """A protocol failure whose ``code`` is the number sent in a ProtocolError."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code_name(code)}: {message}")
        self.code = code
        self.message = message

    @property
    def code_name(self) -> str:
        """The code's name without prefix, e.g. ``"FRAME_TOO_LARGE"``."""
        return code_name(self.code)

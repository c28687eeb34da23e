"""The generated protobuf modules of proto/hb/v1.

They are generated at build time into ``examples/python-node/gen`` (see
``scripts/polyglot.sh build``) and import each other as ``hb.v1.*``, so that
directory goes on ``sys.path`` here.
"""

import os
import sys

GEN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gen")
if GEN_DIR not in sys.path:
    sys.path.insert(0, GEN_DIR)

try:
    from hb.v1 import (  # noqa: E402
        auth_pb2,
        channel_pb2,
        error_pb2,
        flow_pb2,
        frame_pb2,
        gateway_pb2,
        handshake_pb2,
        liveness_pb2,
        presence_pb2,
    )
except ImportError as exc:  # pragma: no cover - build step missing
    raise ImportError(
        f"generated code not found in {GEN_DIR}: run scripts/polyglot.sh build ({exc})"
    ) from exc

Frame = frame_pb2.Frame
ErrorCode = error_pb2.ErrorCode

__all__ = [
    "GEN_DIR",
    "Frame",
    "ErrorCode",
    "auth_pb2",
    "channel_pb2",
    "error_pb2",
    "flow_pb2",
    "frame_pb2",
    "gateway_pb2",
    "handshake_pb2",
    "liveness_pb2",
    "presence_pb2",
]

"""hbnode: an hb v1 node in Python (asyncio), written from proto/ and docs/PROTOCOL.md.

- :mod:`hbnode.framing`: the streaming frame decoder/encoder, fragments.
- :mod:`hbnode.node`: the node (handshake, heartbeats, reconnect, routing).
- ``python -m hbnode``: the CLI (JSON events on stdout, JSON commands on stdin).
"""

__version__ = "0.1.0"

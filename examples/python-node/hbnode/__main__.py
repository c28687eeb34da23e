"""python -m hbnode -addr 127.0.0.1:9501 -id sensor-1 -label zone=eu

Prints one JSON event per line on stdout and takes one JSON command per line
on stdin (see examples/README.md; same contract as go-node). Exit status: 0
after a Goodbye (command, SIGINT or SIGTERM), 2 for bad arguments, 3 when
the server refuses the node for good (TOKEN_EXPIRED too without -token-file).
"""

import argparse
import asyncio
import json
import signal
import sys
import threading

from .commands import CommandError, parse_command
from .node import Config, Node, PermanentError, ev


def _label(v: str) -> tuple[str, str]:
    k, sep, val = v.partition("=")
    if not sep or not k:
        raise argparse.ArgumentTypeError(f"label {v!r} is not key=value")
    return k, val


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python-node", description="hb v1 node (Python)")
    # Single-dash long flags, as go-node takes them (the double-dash forms work too).
    p.add_argument("-addr", "--addr", default="127.0.0.1:9501", help="server host:port")
    p.add_argument("-id", "--id", default="", help="node id to ask for (empty: the server assigns one)")
    p.add_argument("-label", "--label", type=_label, action="append", default=[], help="label key=value (repeatable)")
    p.add_argument("-token", "--token", default="", help="credential for the server's authentication hook")
    p.add_argument("-token-file", "--token-file", default="", help="file holding the credential, read for every Hello and renewal (instead of -token)")
    p.add_argument("-observer", "--observer", action="store_true", help="connect as an observer (not a node: never in presence; no will)")
    p.add_argument("-interval", "--interval", type=int, default=0, help="heartbeat interval to ask for, ms (0: server default)")
    p.add_argument("-max-frame-size", "--max-frame-size", type=int, default=0, help="largest frame accepted from the server, 1024..67108864 bytes (0: 1 MiB)")
    p.add_argument("-will-subject", "--will-subject", default="", help="subject of the last will (empty: no will)")
    p.add_argument("-will-payload", "--will-payload", default="", help="payload of the last will")
    p.add_argument("-backoff-base", "--backoff-base", type=int, default=1000, help="first reconnect backoff window, ms")
    p.add_argument("-backoff-max", "--backoff-max", type=int, default=30000, help="largest reconnect backoff window, ms")
    p.add_argument("-handshake-timeout", "--handshake-timeout", type=int, default=10000, help="how long to wait for Welcome, ms")
    p.add_argument("-no-auto-reply", "--no-auto-reply", action="store_true", help="do not answer requests with their own payload")
    p.add_argument("-exit-on-eof", "--exit-on-eof", action="store_true", help="say Goodbye and exit when stdin ends")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    lock = threading.Lock()

    def emit(event: dict) -> None:
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    try:
        cfg = Config(
            addr=args.addr,
            node_id=args.id,
            labels=dict(args.label),
            token=args.token,
            token_file=args.token_file,
            observer=args.observer,
            heartbeat_interval_ms=args.interval,
            max_frame_size=args.max_frame_size or Config.max_frame_size,
            will_subject=args.will_subject,
            will_payload=args.will_payload.encode(),
            backoff_base=args.backoff_base / 1000,
            backoff_max=args.backoff_max / 1000,
            handshake_timeout=args.handshake_timeout / 1000,
            auto_reply=not args.no_auto_reply,
        )
        node = Node(cfg, emit)
    except ValueError as exc:
        print(f"python-node: {exc}", file=sys.stderr)
        return 2

    def read_stdin() -> None:
        for raw in sys.stdin:
            line = raw.strip()
            if not line:
                continue
            try:
                node.post_threadsafe(("cmd", parse_command(line)))
            except CommandError as exc:
                emit(ev("command_error", error=str(exc), line=line))
            except RuntimeError:  # loop closed
                return
        if args.exit_on_eof:
            try:
                node.post_threadsafe(("cmd", parse_command('{"cmd":"goodbye","reason":"stdin closed"}')))
            except RuntimeError:
                pass

    async def amain() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, node.post, ("signal",))
        node._loop = loop
        threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
        try:
            await node.run()
        except PermanentError as exc:
            print(f"python-node: {exc}", file=sys.stderr)
            return 3
        return 0

    try:
        return asyncio.run(amain())
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())

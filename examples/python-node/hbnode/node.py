"""An hb v1 node (asyncio) written from proto/ and docs/PROTOCOL.md.

It connects over TCP, says Hello, heartbeats on the negotiated interval,
notices a dead server when nothing (not even a HeartbeatAck) arrives for the
negotiated timeout, reconnects with exponential backoff and full jitter
presenting its resume token, subscribes, publishes, sends, answers requests
and says Goodbye when told to stop. Everything it observes is an event (a
dict with "event", in the same shapes as the Go node); it is driven by
commands.
"""

import asyncio
import base64
import collections
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .backoff import backoff_delay
from .commands import Command, CommandError
from .errors import HbError, code_name
from .framing import (
    DEFAULT_MAX_FRAME_SIZE,
    MAX_FRAGMENT_PIECE,
    MAX_FRAME_SIZE_LIMIT,
    Decoder,
    Reassembler,
    cut,
    marshal,
    piece_size,
    prefixed,
)
from .pb import ErrorCode, Frame, auth_pb2, channel_pb2, error_pb2, handshake_pb2, liveness_pb2, presence_pb2

PROTOCOL_VERSION = 1
# Features the node implements, listed in every Hello (PROTOCOL.md §15.1).
FEATURE_HEARTBEAT_RTT = "heartbeat-rtt"
FEATURE_TOKEN_RENEWAL = "token-renewal"
REF_BODY_RENEW = 24  # ProtocolError.ref_body of an error answering a Renew (Frame field 24)
MIN_ANNOUNCED_FRAME_SIZE = 1024  # smallest max frame size a peer may announce (§3.3)
E = ErrorCode

# Refused for good: retrying with the same Hello is refused the same way, or
# (DUPLICATE_NODE) would take the id back from the newer connection that
# replaced this one, and the two would evict each other forever.
PERMANENT_CODES = {
    E.ERROR_CODE_UNAUTHORIZED,
    E.ERROR_CODE_UNSUPPORTED_VERSION,
    E.ERROR_CODE_INVALID_ARGUMENT,
    E.ERROR_CODE_DUPLICATE_NODE,
}

Event = dict
Emitter = Callable[[Event], None]


def ev(name: str, **fields) -> Event:
    """An event: {"event": name, **fields} (insertion order kept)."""
    return {"event": name, **fields}


def payload_fields(p: bytes) -> dict:
    """"payload" as text when ``p`` is UTF-8, else "payload_b64"."""
    try:
        return {"payload": p.decode("utf-8")}
    except UnicodeDecodeError:
        return {"payload_b64": base64.b64encode(p).decode()}


@dataclass
class Config:
    """What a node needs; durations in seconds."""

    addr: str
    node_id: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    token: str = ""
    token_file: str = ""  # read afresh for every Hello and renewal, instead of token
    observer: bool = False  # Hello.role ROLE_OBSERVER: not a node (§5.7)
    heartbeat_interval_ms: int = 0
    client_name: str = "hb-python-node/0.1.0"
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    will_subject: str = ""
    will_payload: bytes = b""
    backoff_base: float = 1.0  # docs/PROTOCOL.md §6.6 recommends 1 s and 30 s
    backoff_max: float = 30.0
    dial_timeout: float = 5.0
    handshake_timeout: float = 10.0
    goodbye_timeout: float = 2.0
    auto_reply: bool = True

    def validate(self) -> None:
        host, sep, port = self.addr.rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"addr {self.addr!r} is not host:port")
        if not MIN_ANNOUNCED_FRAME_SIZE <= self.max_frame_size <= MAX_FRAME_SIZE_LIMIT:
            raise ValueError(f"max frame size must be in {MIN_ANNOUNCED_FRAME_SIZE}..{MAX_FRAME_SIZE_LIMIT}")
        if self.backoff_base <= 0 or self.backoff_max < self.backoff_base:
            raise ValueError("backoff max must be at least backoff base, and both positive")
        if self.observer and self.will_subject:
            raise ValueError("an observer has no will (PROTOCOL.md §5.7)")
        if self.token and self.token_file:
            raise ValueError("give a token or a token file, not both")


class PermanentError(Exception):
    """The server refused the node for good."""

    def __init__(self, err: HbError):
        super().__init__(f"permanent refusal: {err}")
        self.err = err


@dataclass
class _Result:
    welcomed: bool = False
    stop: bool = False
    reason: str = ""
    error: PermanentError | None = None


class Node:
    """One hb node. ``post`` commands (thread-safe via ``post_threadsafe``), ``await run()``."""

    def __init__(self, cfg: Config, emit: Emitter, rng: Callable[[], float] = random.random):
        cfg.validate()
        self.cfg = cfg
        self.emit = emit
        self.random = rng
        self.node_id = cfg.node_id
        self.resume_token = b""
        self.subjects: list[str] = []
        self.filters: dict[str, dict[str, str]] = {}
        self._inbox: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[tuple] = []
        self._start = time.monotonic()
        self._session_ids = itertools.count(1)
        # The server's wait before the next attempt (§6.6): not before
        # not_before; exactly then when exact (a GoAway's reconnect_delay_ms),
        # else at least then (a refusal's retry_after_ms).
        self.not_before = 0.0
        self.exact = False

    def credential(self) -> str:
        """The token for a Hello or a Renew: read from token_file when set, else token."""
        if not self.cfg.token_file:
            return self.cfg.token
        with open(self.cfg.token_file, encoding="utf-8") as f:
            return f.read().strip()

    def wait_at_least(self, seconds: float) -> None:
        self.not_before, self.exact = time.monotonic() + seconds, False

    def wait_exactly(self, seconds: float) -> None:
        self.not_before, self.exact = time.monotonic() + seconds, True

    def next_delay(self, attempt: int) -> float:
        """Delay before attempt number ``attempt``: full jitter, unless the server said when."""
        delay = backoff_delay(attempt, self.cfg.backoff_base, self.cfg.backoff_max, self.random)
        if self.not_before:
            wait = max(self.not_before - time.monotonic(), 0.0)
            if self.exact or wait > delay:
                delay = wait
            self.not_before, self.exact = 0.0, False
        return delay

    # -- input ---------------------------------------------------------------

    def post(self, item: tuple) -> None:
        """Queues ("cmd", Command) or ("signal",); call on the loop's thread."""
        if self._inbox is None:
            self._early.append(item)
        else:
            self._inbox.put_nowait(item)

    def post_threadsafe(self, item: tuple) -> None:
        """Like :meth:`post`, from any thread, once :meth:`run` has started."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.post, item)

    def command(self, cmd: Command) -> None:
        self.post(("cmd", cmd))

    def mono_us(self) -> int:
        """Monotonic clock for Heartbeat.send_time_us."""
        return int((time.monotonic() - self._start) * 1_000_000)

    # -- main loop -------------------------------------------------------------

    async def run(self) -> None:
        """Keeps the node online until a goodbye command or ("signal",) (then
        says Goodbye and returns), or raises PermanentError."""
        self._loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        for item in self._early:
            self._inbox.put_nowait(item)
        self._early.clear()
        self._getter: asyncio.Task | None = None
        try:
            await self._run()
        finally:
            if self._getter is not None:
                self._getter.cancel()

    async def _next(self, timeout: float | None):
        """The next inbox item, or None after ``timeout`` seconds. One pending
        get is kept across calls so that no item is ever lost to a timeout."""
        if self._getter is None:
            self._getter = asyncio.ensure_future(self._inbox.get())
        done, _ = await asyncio.wait({self._getter}, timeout=None if timeout is None else max(timeout, 0))
        if not done:
            return None
        item = self._getter.result()
        self._getter = None
        return item

    async def _run(self) -> None:
        attempt = 0
        host, _, port = self.cfg.addr.rpartition(":")
        host = host.strip("[]")
        while True:
            self.emit(ev("connecting", addr=self.cfg.addr, attempt=attempt))
            try:
                token = self.credential()
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), self.cfg.dial_timeout)
            except (OSError, asyncio.TimeoutError) as exc:
                self.emit(ev("connect_failed", error=str(exc) or type(exc).__name__))
            else:
                res = await _Session(self, reader, writer, next(self._session_ids), token).run()
                if res.welcomed:
                    attempt = 0
                if res.stop:
                    if res.error is not None:
                        self.emit(ev("closed", reason="permanent_error", error=str(res.error), code=res.error.err.code_name))
                        raise res.error
                    self.emit(ev("closed", reason=res.reason))
                    return
            delay = self.next_delay(attempt)
            attempt += 1
            self.emit(ev("reconnecting", attempt=attempt, delay_ms=int(delay * 1000)))
            stop = await self._wait(delay)
            if stop:
                self.emit(ev("closed", reason=stop))
                return

    async def _wait(self, delay: float) -> str | None:
        """Sleeps ``delay`` s handling commands that need no connection;
        returns a reason to stop, or None."""
        deadline = time.monotonic() + delay
        while True:
            item = await self._next(deadline - time.monotonic())
            if item is None:
                return None
            if item[0] == "signal":
                return "signal"
            if item[0] != "cmd":
                continue  # leftovers of an old connection
            cmd = item[1]
            if cmd.cmd == "goodbye":
                return "goodbye"
            if cmd.cmd in ("subscribe", "unsubscribe"):
                self.remember(cmd)
            else:
                self.emit(ev("command_error", cmd=cmd.cmd, error="not connected"))

    def remember(self, cmd: Command) -> None:
        """Keeps the wanted subscriptions; every new connection renews them."""
        if cmd.cmd == "subscribe":
            if cmd.subject not in self.subjects:
                self.subjects.append(cmd.subject)
            self.filters[cmd.subject] = cmd.label_filter
        elif cmd.cmd == "unsubscribe":
            if cmd.subject in self.subjects:
                self.subjects.remove(cmd.subject)
            self.filters.pop(cmd.subject, None)


def _kind(enum, value: int, prefix: str) -> str:
    try:
        return enum.Name(value).removeprefix(prefix).lower()
    except ValueError:
        return str(value)


class _Session:
    """One connection's state; lives inside Node._run."""

    def __init__(self, node: Node, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sid: int, token: str = ""):
        self.n = node
        self.token = token
        self.features: set[str] = set()  # Welcome.features: what this connection may use
        self.rtt_to_report = 0  # RTT measured since the last Heartbeat, µs (feature heartbeat-rtt)
        self.leave_at: float | None = None  # end of a GoAway's reconnect_delay_ms
        # Credential renewal (feature token-renewal, §5.8).
        self.renew_at: float | None = None
        self.renew_pending = False
        self.token_expiry = 0.0  # monotonic; 0: never expires
        self.token_grace = 0.0
        self.reader = reader
        self.writer = writer
        self.sid = sid
        self.welcomed = False
        self.peer_max_frame = DEFAULT_MAX_FRAME_SIZE
        self.interval = 10.0
        self.timeout = 30.0
        self.last_heard = time.monotonic()
        self.heartbeats_off = False
        self.seq = 0
        self.going_away = False
        self.next_id = 0
        self.pending_subs: dict[int, str] = {}
        self.channels: dict[int, str] = {}
        self.next_frag_id = 0
        self.reasm = Reassembler(0)  # no fragments until Welcome says otherwise
        self.flow_ctl = False
        self.window = 0
        self.held: list[tuple[bytes, int]] = []  # encoded frames waiting for credit, with their cost
        self.data_q: collections.deque[bytes] = collections.deque()  # wire frames for the pump, in order
        self.data_ready = asyncio.Event()
        self.closing = False
        self.write_error: Exception | None = None

    # -- plumbing -----------------------------------------------------------------

    async def _read_loop(self) -> None:
        dec = Decoder(self.n.cfg.max_frame_size)
        post = self.n.post
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    err = dec.end()
                    post(("end", self.sid, err if err is not None else EOFError()))
                    return
                err = dec.push(chunk, lambda f: post(("frame", self.sid, f)))
                if err is not None:
                    post(("end", self.sid, err))
                    return
        except OSError as exc:
            post(("end", self.sid, exc))

    def send(self, frame: Frame) -> None:
        """Sends a frame that carries no payload: no flow control (§12).
        Heartbeats and ProtocolErrors are written at once, ahead of queued
        data; the rest keeps its order behind it."""
        try:
            parts = self.encode(frame, 0)
        except HbError as exc:
            self.write_error = exc
            return
        self.write(parts, urgent=frame.WhichOneof("body") in ("heartbeat", "error"))

    def send_payload(self, frame: Frame, n: int) -> None:
        """Sends a frame carrying ``n`` payload bytes (Publish, Send,
        Broadcast, Reply); while the flow-control window has no room it
        waits, in order, for WindowUpdate. Raises HbError MESSAGE_TOO_LARGE
        for a frame that cannot be sent at all."""
        parts = self.encode(frame, n)
        if not self.flow_ctl:
            self.write(parts, urgent=False)
            return
        self.held.extend(parts)
        self.flush_held()

    def encode(self, frame: Frame, n: int) -> list[tuple[bytes, int]]:
        """Encodes ``frame``: as fragments when it is longer than the server's
        max frame size, or than 64 KiB, and the connection allows them
        (Welcome.max_message_size > 0); each piece then costs its data length
        in credit, else the frame costs ``n`` (§11, §12)."""
        body = marshal(frame)
        max_msg = self.reasm.max_message_size
        if len(body) <= min(self.peer_max_frame, MAX_FRAGMENT_PIECE):
            return [(body, n)]
        if 0 < len(body) <= max_msg:
            self.next_frag_id += 1
            pieces = cut(body, frame.channel, self.next_frag_id, piece_size(self.peer_max_frame))
            return [(marshal(p), len(p.fragment.data)) for p in pieces]
        if len(body) <= self.peer_max_frame:
            return [(body, n)]
        raise HbError(E.ERROR_CODE_MESSAGE_TOO_LARGE,
                      f"a frame of {len(body)} bytes exceeds the server's max frame size {self.peer_max_frame} "
                      f"and max message size {max_msg}")

    def flush_held(self) -> None:
        i = 0
        while i < len(self.held) and self.held[i][1] <= self.window:
            self.window -= self.held[i][1]
            i += 1
        if i:
            self.write(self.held[:i], urgent=False)
            del self.held[:i]
        if self.held:
            self.n.emit(ev("flow_blocked", held=len(self.held), window=self.window))

    def write(self, parts: list[tuple[bytes, int]], urgent: bool) -> None:
        """Urgent frames go straight to the transport, so they wait behind at
        most the one frame or fragment being written (§6.2, §11); the others
        go to the pump, which hands the transport one frame at a time."""
        if self.write_error is not None or self.closing:
            return
        if urgent:
            try:
                self.writer.write(b"".join(prefixed(body) for body, _ in parts))
            except (OSError, RuntimeError) as exc:
                self.write_error = exc
            return
        self.data_q.extend(prefixed(body) for body, _ in parts)
        self.data_ready.set()

    async def _pump(self) -> None:
        """Writes queued data frames one by one, each once the transport's
        buffer is empty (write buffer limits 0), so that an urgent frame is
        never queued behind more than one of them."""
        try:
            while True:
                while not self.data_q:
                    self.data_ready.clear()
                    await self.data_ready.wait()
                await self.writer.drain()
                if self.closing:
                    return
                self.writer.write(self.data_q.popleft())
        except (OSError, RuntimeError) as exc:
            self.write_error = exc
            self.n.post(("wake", self.sid))

    def send_heartbeat(self) -> None:
        self.seq += 1
        hb = liveness_pb2.Heartbeat(seq=self.seq, send_time_us=self.n.mono_us())
        if FEATURE_HEARTBEAT_RTT in self.features:
            hb.last_rtt_us = self.rtt_to_report  # each measurement once (§6.7)
        self.rtt_to_report = 0
        self.send(Frame(heartbeat=hb))

    # -- credential renewal (§5.8) ------------------------------------------------------

    def plan_renewal(self, expires_in_ms: int) -> None:
        """Renews at 3/4 of the credential's lifetime, when token-renewal was
        negotiated and the credential comes from a file (a fixed one cannot
        be renewed)."""
        self.token_expiry = 0.0
        self.renew_at = None
        if not expires_in_ms or FEATURE_TOKEN_RENEWAL not in self.features or not self.n.cfg.token_file:
            return
        now = time.monotonic()
        self.token_expiry = now + expires_in_ms / 1000
        self.renew_at = now + expires_in_ms / 1000 * 0.75

    def renew_later(self) -> None:
        """Retries after a quarter of the time left before expiry plus grace (0.25 .. 30 s)."""
        if not self.token_expiry:
            return
        now = time.monotonic()
        left = self.token_expiry + self.token_grace - now
        if left > 0:
            self.renew_at = now + min(left, max(0.25, min(30.0, left / 4)))

    def renew(self) -> None:
        self.renew_at = None
        try:
            token = self.n.credential()
        except OSError as exc:
            self.n.emit(ev("renew_failed", error=str(exc)))
            self.renew_later()
            return
        self.renew_pending = True
        self.send(Frame(renew=auth_pb2.Renew(token=token)))
        self.n.emit(ev("renew_sent"))

    def lost(self, reason: str, err: object = None) -> _Result:
        e = ev("disconnected", reason=reason)
        if err is not None:
            e["error"] = str(err)
        self.n.emit(e)
        return _Result(welcomed=self.welcomed)

    # -- run ------------------------------------------------------------------------

    async def run(self) -> _Result:
        self.writer.transport.set_write_buffer_limits(high=0)
        reader_task = asyncio.ensure_future(self._read_loop())
        pump_task = asyncio.ensure_future(self._pump())
        try:
            return await self._run()
        finally:
            reader_task.cancel()
            pump_task.cancel()
            self.writer.close()
            try:
                await asyncio.wait_for(self.writer.wait_closed(), 1)
            except (OSError, asyncio.TimeoutError):
                pass

    def _hello(self) -> Frame:
        cfg = self.n.cfg
        hello = handshake_pb2.Hello(
            protocol_version=PROTOCOL_VERSION,
            node_id=self.n.node_id,
            labels=cfg.labels,
            token=self.token,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            resume_token=self.n.resume_token,
            client_name=cfg.client_name,
            max_frame_size=cfg.max_frame_size,
            features=[FEATURE_HEARTBEAT_RTT, FEATURE_TOKEN_RENEWAL],
        )
        if cfg.observer:
            hello.role = handshake_pb2.ROLE_OBSERVER
        if cfg.will_subject:
            hello.will.subject = cfg.will_subject
            hello.will.payload = cfg.will_payload
        return Frame(hello=hello)

    async def _run(self) -> _Result:
        self.send(self._hello())
        handshake_deadline = time.monotonic() + self.n.cfg.handshake_timeout
        next_hb = next_check = None
        while True:
            if self.write_error is not None:
                return self.lost("socket_error", self.write_error)
            now = time.monotonic()
            deadlines = [d for d in (None if self.welcomed else handshake_deadline, next_hb, next_check,
                                     self.leave_at, self.renew_at) if d is not None]
            item = await self.n._next(min(deadlines) - now if deadlines else None)
            now = time.monotonic()
            if item is None:  # a timer is due
                if not self.welcomed and now >= handshake_deadline:
                    return self.lost("handshake_timeout", "no Welcome in time")
                if next_hb is not None and now >= next_hb:
                    if not self.heartbeats_off:
                        self.send_heartbeat()
                    next_hb = max(next_hb + self.interval, now + self.interval / 2)
                if next_check is not None and now >= next_check:
                    if not self.heartbeats_off and now - self.last_heard > self.timeout:
                        return self.lost("heartbeat_timeout", "nothing heard from the server for the heartbeat timeout")
                    next_check = now + min(max(self.timeout / 10, 0.01), 1.0)
                if self.leave_at is not None and now >= self.leave_at:
                    # The GoAway's reconnect delay has passed: leave, and reconnect at once (Node.next_delay).
                    return self.lost("go_away")
                if self.renew_at is not None and now >= self.renew_at:
                    self.renew()
                continue
            kind = item[0]
            if kind == "signal":
                return await self.leave("signal")
            if kind == "cmd":
                cmd = item[1]
                if cmd.cmd == "goodbye":
                    return await self.leave(cmd.reason or "goodbye")
                res = self.command(cmd)
                if res is not None:
                    return res
                continue
            if item[1] != self.sid or kind == "wake":
                continue  # from an earlier connection, or just a wake-up (write_error is checked above)
            if kind == "end":
                return await self.ended(item[2])
            self.last_heard = now
            res = await self.handle(item[2])
            if res is not None:
                return res
            if self.welcomed and next_hb is None:
                self.send_heartbeat()  # a first one at once: it also measures the RTT
                next_hb = now + self.interval
                next_check = now + min(max(self.timeout / 10, 0.01), 1.0)

    async def ended(self, err: object) -> _Result:
        if isinstance(err, HbError):
            # Tell the server why, as it would tell us (best effort), then close.
            # TRUNCATED too: the server may only have half-closed (§3.2, §5.6).
            return await self.fatal("decode_error", err, reading=False)
        if isinstance(err, EOFError):
            return self.lost("go_away" if self.going_away else "connection_closed")
        return self.lost("socket_error", err)

    async def leave(self, reason: str) -> _Result:
        res = _Result(welcomed=self.welcomed, stop=True, reason=reason)
        if not self.welcomed:
            return res
        self.send(Frame(goodbye=handshake_pb2.Goodbye(reason=reason)))
        if self.write_error is not None:
            return res
        self.n.emit(ev("goodbye_sent", reason=reason))
        deadline = time.monotonic() + self.n.cfg.goodbye_timeout
        while True:  # wait for the server to close
            item = await self.n._next(deadline - time.monotonic())
            if item is None or (item[0] == "end" and item[1] == self.sid):
                return res

    def violation(self, msg: str) -> "Awaitable[_Result]":
        """A frame the server must not send now: fatal PROTOCOL_VIOLATION."""
        return self.fatal("protocol_violation", HbError(E.ERROR_CODE_PROTOCOL_VIOLATION, msg), reading=True)

    async def fatal(self, reason: str, err: HbError, reading: bool) -> _Result:
        """Sends ProtocolError{code, fatal} and closes as §5.6 recommends:
        half-close, then read and discard until the server closes (at most
        1 s), so that a TCP reset does not destroy the error frame."""
        self.send(Frame(error=_protocol_error(err.code, err.message, fatal=True)))
        self.closing = True  # nothing after the error frame
        if self.write_error is None:
            try:
                self.writer.write_eof()  # after the buffered bytes
                if reading:
                    deadline = time.monotonic() + 1.0
                    while True:
                        item = await self.n._next(deadline - time.monotonic())
                        if item is None or (item[0] == "end" and item[1] == self.sid):
                            break
            except (OSError, RuntimeError):
                pass
        return self.lost(reason, err)

    # -- frames from the server -----------------------------------------------------

    async def handle(self, f: Frame) -> _Result | None:
        body = f.WhichOneof("body")
        if not self.welcomed:
            if body == "welcome":
                self.on_welcome(f.welcome)
                return None
            if body == "error":
                return self.on_error(f.channel, f.error)
            if body != "go_away":  # clients accept GoAway in HANDSHAKE too (§5.2)
                return await self.violation(f"expected Welcome, got {body}")
        emit = self.n.emit
        if body == "heartbeat_ack":
            a = f.heartbeat_ack
            us = self.n.mono_us() - a.send_time_us
            self.rtt_to_report = min(max(us, 1), 2**32 - 1)
            rtt = us / 1000
            emit(ev("heartbeat_ack", seq=a.seq, rtt_ms=int(rtt * 1000) / 1000))
        elif body == "error":
            return self.on_error(f.channel, f.error)
        elif body == "go_away":
            g = f.go_away
            code = g.code or E.ERROR_CODE_SHUTTING_DOWN  # §4.6
            emit(ev("go_away", code=code_name(code), reason=g.reason, drain_ms=g.drain_ms,
                    reconnect_delay_ms=g.reconnect_delay_ms))
            self.going_away = True  # no new work on this connection (§5.5)
            delay = min(g.reconnect_delay_ms, g.drain_ms) if g.drain_ms else g.reconnect_delay_ms
            if not delay:
                # Reconnect (with backoff) rather than wait for the drain to end.
                return self.lost("go_away")
            if self.leave_at is None:
                # Keep the connection (heartbeats, deliveries) until the delay, then reconnect at once.
                self.n.wait_exactly(delay / 1000)
                self.leave_at = time.monotonic() + delay / 1000
        elif body == "renewed":
            if self.renew_pending:  # else no Renew of ours to answer
                self.renew_pending = False
                emit(ev("renewed", token_expires_in_ms=f.renewed.token_expires_in_ms))
                self.plan_renewal(f.renewed.token_expires_in_ms)
        elif body == "subscribed":
            s = f.subscribed
            subject = self.pending_subs.pop(s.request_id, s.subject)
            subject = s.subject or subject
            self.channels[s.channel] = subject
            emit(ev("subscribed", subject=subject, channel=s.channel, request_id=s.request_id))
        elif body == "delivery":
            if f.channel == 0 or f.channel in self.channels:  # else just unsubscribed: discard (§10.8)
                self.on_delivery(f.channel, f.delivery)
        elif body == "presence":
            if f.channel not in self.channels:
                return None  # §10.8
            p = f.presence
            emit(ev("presence", kind=_kind(presence_pb2.PresenceKind, p.kind, "PRESENCE_KIND_"), node_id=p.node_id,
                    labels=dict(p.labels), reason=p.reason, time_ms=p.time_ms, server_id=p.server_id, channel=f.channel))
        elif body == "reply":
            r = f.reply
            e = ev("reply", **{"from": r.node_id}, request_id=r.request_id, **payload_fields(r.payload))
            if r.error_code:
                e.update(error_code=code_name(r.error_code), error_message=r.error_message)
            emit(e)
        elif body == "fragment":
            try:
                whole = self.reasm.add(f.fragment)
            except HbError as err:
                return await self.fatal("decode_error", err, reading=True)
            if whole is not None:
                return await self.handle(whole)
        elif body == "window_update":
            if f.channel == 0:  # v1 has connection-level flow control only (§3.6)
                self.window = min(self.window + f.window_update.credit, 2**64 - 1)  # saturating (§12)
                self.flush_held()
        else:
            return await self.violation(f"a server does not send {body}")
        return None

    def on_welcome(self, w) -> None:
        self.welcomed = True
        self.n.node_id = w.node_id
        self.n.resume_token = w.resume_token
        if w.max_frame_size > 0:
            self.peer_max_frame = w.max_frame_size
        self.interval = w.heartbeat_interval_ms / 1000 if w.heartbeat_interval_ms > 0 else 10.0
        self.timeout = w.heartbeat_timeout_ms / 1000 if w.heartbeat_timeout_ms > 0 else 3 * self.interval
        if w.initial_window > 0:
            self.flow_ctl = True
            self.window = w.initial_window
        self.reasm.max_message_size = w.max_message_size  # both directions (§11)
        self.features = set(w.features)
        self.token_grace = w.token_grace_ms / 1000
        self.plan_renewal(w.token_expires_in_ms)
        self.n.emit(ev("welcome", node_id=w.node_id, session_id=w.session_id, server_id=w.server_id, resumed=w.resumed,
                       heartbeat_interval_ms=w.heartbeat_interval_ms, heartbeat_timeout_ms=w.heartbeat_timeout_ms,
                       max_frame_size=w.max_frame_size, resume_grace_ms=w.resume_grace_ms,
                       protocol_version=w.protocol_version, initial_window=w.initial_window,
                       max_message_size=w.max_message_size, features=list(w.features),
                       role="observer" if w.role == handshake_pb2.ROLE_OBSERVER else "node",
                       check_interval_ms=w.check_interval_ms, handshake_timeout_ms=w.handshake_timeout_ms,
                       token_expires_in_ms=w.token_expires_in_ms, token_grace_ms=w.token_grace_ms))
        # Subscriptions belong to a connection (channel numbers are per
        # connection): renew every wanted one.
        for subject in self.n.subjects:
            self.subscribe(subject, self.n.filters.get(subject) or {})

    def on_error(self, channel: int, e) -> _Result | None:
        event = ev("error", code=code_name(e.code), message=e.message, ref=e.ref, fatal=e.fatal, channel=channel)
        if e.node_id:
            event["node_id"] = e.node_id
        if e.ref_body:
            event["ref_body"] = e.ref_body
        if e.retry_after_ms:
            event["retry_after_ms"] = e.retry_after_ms
        self.n.emit(event)
        if not e.fatal and e.ref_body == REF_BODY_RENEW and self.renew_pending:
            self.renew_pending = False  # refused: the session goes on under the old credential; try again
            self.n.emit(ev("renew_failed", error=f"{code_name(e.code)}: {e.message}"))
            self.renew_later()
            return None
        if e.fatal and e.retry_after_ms:
            self.n.wait_at_least(e.retry_after_ms / 1000)
        if e.code == E.ERROR_CODE_UNKNOWN_CHANNEL and channel:
            self.channels.pop(channel, None)  # the server does not know it: forget it (§13.1)
        if e.ref != 0 and e.ref in self.pending_subs:
            subject = self.pending_subs.pop(e.ref)
            self.n.emit(ev("subscribe_failed", subject=subject, code=code_name(e.code)))
        if not e.fatal:
            return None
        err = HbError(e.code, e.message)
        # An expired credential is final only when no fresh one can be had (§5.8, §6.6).
        expired_for_good = e.code == E.ERROR_CODE_TOKEN_EXPIRED and not self.n.cfg.token_file
        if e.code in PERMANENT_CODES or expired_for_good:
            self.n.emit(ev("disconnected", reason="protocol_error", error=str(err)))
            return _Result(welcomed=self.welcomed, stop=True, error=PermanentError(err))
        return self.lost("protocol_error", err)

    def on_delivery(self, channel: int, d) -> None:
        from_ = d.from_node_id
        e = ev("delivery", kind=_kind(channel_pb2.DeliveryKind, d.kind, "DELIVERY_KIND_"),
               subject=d.subject or self.channels.get(channel, ""), **{"from": from_}, channel=channel)
        if d.request_id:
            e["request_id"] = d.request_id
        e.update(payload_fields(d.payload))
        self.n.emit(e)
        if d.request_id and self.n.cfg.auto_reply:
            reply = channel_pb2.Reply(node_id=from_, request_id=d.request_id, payload=d.payload)
            try:
                self.send_payload(Frame(reply=reply), len(d.payload))
            except HbError as exc:
                self.n.emit(ev("command_error", cmd="reply", error=str(exc)))
                return
            self.n.emit(ev("replied", to=from_, request_id=d.request_id))

    # -- commands -----------------------------------------------------------------------

    def subscribe(self, subject: str, label_filter: dict[str, str]) -> None:
        self.next_id += 1
        self.pending_subs[self.next_id] = subject
        self.send(Frame(subscribe=channel_pb2.Subscribe(request_id=self.next_id, subject=subject, label_filter=label_filter)))

    def command(self, cmd: Command) -> _Result | None:
        emit = self.n.emit

        def fail(msg: str) -> None:
            emit(ev("command_error", cmd=cmd.cmd, error=msg))

        if cmd.cmd in ("subscribe", "unsubscribe"):
            if not cmd.subject:
                return fail('"subject" is required')
            self.n.remember(cmd)
            if not self.welcomed or self.going_away:
                return None  # sent after the (next) Welcome
            if cmd.cmd == "subscribe":
                self.subscribe(cmd.subject, cmd.label_filter)
                return None
            for ch, subj in list(self.channels.items()):
                if subj == cmd.subject:
                    del self.channels[ch]
                    self.send(Frame(channel=ch, unsubscribe=channel_pb2.Unsubscribe()))
                    emit(ev("unsubscribed", subject=subj, channel=ch))
            return None
        if cmd.cmd == "stop-heartbeats":
            self.heartbeats_off = True
            emit(ev("heartbeats_stopped"))
            return None
        if cmd.cmd == "start-heartbeats":
            self.heartbeats_off = False
            self.last_heard = time.monotonic()
            emit(ev("heartbeats_started"))
            if self.welcomed:
                self.send_heartbeat()
            return None
        if cmd.cmd == "drop":
            return self.lost("dropped")
        if not self.welcomed or self.going_away:
            return fail("not connected")
        try:
            payload = cmd.payload_bytes()
        except CommandError as exc:
            return fail(str(exc))
        request_id = 0
        if cmd.cmd == "publish":
            if not cmd.subject:
                return fail('"subject" is required')
            frame = Frame(publish=channel_pb2.Publish(subject=cmd.subject, payload=payload))
        elif cmd.cmd == "send":
            if not cmd.to:
                return fail('"to" is required')
            frame = Frame(send=channel_pb2.Send(node_id=cmd.to, payload=payload))
        elif cmd.cmd == "request":
            request_id = self.next_id + 1
            if cmd.to:
                frame = Frame(send=channel_pb2.Send(node_id=cmd.to, payload=payload, request_id=request_id))
            elif cmd.subject:
                frame = Frame(publish=channel_pb2.Publish(subject=cmd.subject, payload=payload, request_id=request_id))
            else:
                return fail('"to" or "subject" is required')
        elif cmd.cmd == "broadcast":
            frame = Frame(broadcast=channel_pb2.Broadcast(payload=payload))
        else:
            return fail("unknown command")
        try:
            self.send_payload(frame, len(payload))
        except HbError as exc:
            return fail(str(exc))
        if request_id:
            self.next_id = request_id
            emit(ev("request_sent", request_id=request_id))
        return None


def _protocol_error(code: int, message: str, fatal: bool):
    return error_pb2.ProtocolError(code=code, message=message, fatal=fatal)

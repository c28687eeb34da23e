"""A scripted hb server and a node-process driver for the CLI tests.

FakeServer accepts TCP connections on 127.0.0.1 and hands each one, as a
ServerConn, to the test (``accept()``), which then plays the server's part
frame by frame. NodeProcess runs go-node or python-node and collects the
JSON events of its stdout.
"""

import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time

from hbnode.framing import Decoder, encode_frame
from hbnode.pb import Frame

HERE = os.path.dirname(os.path.abspath(__file__))
PY_NODE_DIR = os.path.dirname(HERE)
EXAMPLES = os.path.dirname(PY_NODE_DIR)
GO_NODE_BIN = os.path.join(EXAMPLES, "go-node", "bin", "go-node")
PY_NODE_BIN = os.path.join(PY_NODE_DIR, "python-node")


class ServerConn:
    """One accepted connection, driven by the test."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.frames: queue.Queue = queue.Queue()
        self.closed = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        threading.Thread(target=self._read, daemon=True).start()

    def pause(self) -> threading.Event:
        """Stops reading from the socket until the returned event is set."""
        self._resume.clear()
        return self._resume

    def _read(self) -> None:
        dec = Decoder(64 << 20)
        try:
            while True:
                self._resume.wait()
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                err = dec.push(chunk, self.frames.put)
                if err is not None:
                    self.frames.put(err)
                    break
        except OSError:
            pass
        self.closed.set()
        self.frames.put(None)

    def recv(self, timeout: float = 5.0, skip: tuple[str, ...] = ()) -> Frame:
        """The next frame whose body is not in ``skip``; AssertionError on timeout or close."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.frames.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError("no frame from the node in time") from None
            if f is None:
                raise AssertionError("the node closed the connection")
            if isinstance(f, Exception):
                raise AssertionError(f"the node sent bytes that do not decode: {f}")
            if f.WhichOneof("body") not in skip:
                return f

    def expect(self, body: str, timeout: float = 5.0, skip: tuple[str, ...] = ("heartbeat",)) -> Frame:
        f = self.recv(timeout, skip)
        assert f.WhichOneof("body") == body, f"expected {body}, got {f}"
        return f

    def send(self, frame: Frame) -> None:
        self.send_raw(encode_frame(frame))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait_closed(self, timeout: float = 5.0) -> bool:
        return self.closed.wait(timeout)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakeServer:
    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conns: queue.Queue = queue.Queue()
        self._all: list[ServerConn] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            c = ServerConn(sock)
            self._all.append(c)
            self.conns.put(c)

    def accept(self, timeout: float = 5.0) -> ServerConn:
        try:
            return self.conns.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the node did not connect in time") from None

    def stop_listening(self) -> None:
        """Stops accepting: later connection attempts are refused."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        self.listener.close()

    def close(self) -> None:
        self.stop_listening()
        for c in self._all:
            c.close()


class NodeProcess:
    """go-node or python-node as a child process; events from its stdout."""

    def __init__(self, kind: str, args: list[str]):
        exe = GO_NODE_BIN if kind == "go" else PY_NODE_BIN
        self.proc = subprocess.Popen(
            [exe, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.events: queue.Queue = queue.Queue()
        self.log: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "NOT_JSON", "line": line}
            self.log.append(event)
            self.events.put(event)
        self.events.put(None)

    def command(self, **cmd) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self, name: str, timeout: float = 5.0, **match) -> dict:
        """The next event called ``name`` whose fields include ``match``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                e = self.events.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError(f"no {name} {match} event in time; log: {self.log[-15:]}") from None
            if e is None:
                raise AssertionError(f"the node exited before {name} {match}; log: {self.log[-15:]}")
            assert e.get("event") != "NOT_JSON", f"stdout line is not JSON: {e}"
            if e.get("event") == name and all(e.get(k) == v for k, v in match.items()):
                return e

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def exit_code(self, timeout: float = 5.0) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass

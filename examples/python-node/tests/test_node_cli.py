"""The go-node and python-node CLIs against a scripted server.

Every test runs both nodes through the same contract (flags, JSON events on
stdout, JSON commands on stdin, exit status), so the two implementations
are held to identical behaviour. go-node must have been built
(scripts/polyglot.sh build does it).
"""

import os
import signal
import socket
import time

import pytest

from fake_server import GO_NODE_BIN, FakeServer, NodeProcess
from hbnode.framing import cut, decode_frame, marshal
from hbnode.pb import Frame, auth_pb2, channel_pb2, error_pb2, flow_pb2, handshake_pb2, liveness_pb2, presence_pb2

E = error_pb2.ErrorCode
TOKEN_1 = bytes(range(16))
TOKEN_2 = bytes(range(16, 32))


@pytest.fixture(params=["go", "python"])
def kind(request):
    if request.param == "go" and not os.access(GO_NODE_BIN, os.X_OK):
        pytest.fail(f"{GO_NODE_BIN} is not built: run scripts/polyglot.sh build", pytrace=False)
    return request.param


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


@pytest.fixture
def start(kind, server):
    procs = []

    def _start(*args: str) -> NodeProcess:
        p = NodeProcess(kind, ["-addr", server.addr, "-backoff-base", "50", "-backoff-max", "200", *args])
        procs.append(p)
        return p

    yield _start
    for p in procs:
        p.kill()


def welcome(node_id="n1", interval=100, timeout=600, token=TOKEN_1, resumed=False, **extra) -> Frame:
    return Frame(welcome=handshake_pb2.Welcome(
        node_id=node_id, session_id="s-1", heartbeat_interval_ms=interval, heartbeat_timeout_ms=timeout,
        max_frame_size=1 << 20, server_time_ms=int(time.time() * 1000), resume_token=token, resumed=resumed,
        protocol_version=1, server_id="fake", resume_grace_ms=5000, **extra))


def ack(hb: Frame) -> Frame:
    return Frame(heartbeat_ack=liveness_pb2.HeartbeatAck(
        seq=hb.heartbeat.seq, send_time_us=hb.heartbeat.send_time_us, server_time_ms=int(time.time() * 1000)))


def handshake(server, node, **kw):
    conn = server.accept()
    hello = conn.expect("hello").hello
    conn.send(welcome(**kw))
    node.wait("welcome")
    return conn, hello


def test_hello_heartbeats_goodbye(start, server):
    node = start("-id", "n1", "-label", "zone=eu", "-label", "rack=4", "-interval", "100")
    conn = server.accept()
    hello = conn.expect("hello").hello
    assert hello.protocol_version == 1
    assert hello.node_id == "n1"
    assert dict(hello.labels) == {"zone": "eu", "rack": "4"}
    assert hello.heartbeat_interval_ms == 100
    assert hello.max_frame_size == 1 << 20
    assert hello.client_name and hello.resume_token == b""
    conn.send(welcome(interval=100))
    w = node.wait("welcome")
    assert (w["node_id"], w["resumed"], w["heartbeat_interval_ms"], w["heartbeat_timeout_ms"]) == ("n1", False, 100, 600)

    # Heartbeats on the negotiated interval, seq 1, 2, 3, ... each acked.
    t0 = time.monotonic()
    seqs = []
    for _ in range(5):
        hb = conn.expect("heartbeat", skip=())
        seqs.append(hb.heartbeat.seq)
        conn.send(ack(hb))
        e = node.wait("heartbeat_ack", seq=hb.heartbeat.seq)
        assert e["rtt_ms"] >= 0
    elapsed = time.monotonic() - t0
    assert seqs == [1, 2, 3, 4, 5]
    assert 0.25 < elapsed < 1.5, f"5 heartbeats at 100 ms took {elapsed:.3f} s"

    node.command(cmd="goodbye", reason="done")
    bye = conn.expect("goodbye")
    assert bye.goodbye.reason == "done"
    conn.close()
    node.wait("closed", reason="done")
    assert node.exit_code() == 0


def test_dead_server_reconnect_with_resume_token(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node, timeout=400)
    # Never ack: the node must give up on the server after ~400 ms.
    t0 = time.monotonic()
    e = node.wait("disconnected", reason="heartbeat_timeout", timeout=3)
    assert 0.35 < time.monotonic() - t0 < 2.0
    r = node.wait("reconnecting")
    assert r["attempt"] == 1 and 0 <= r["delay_ms"] < 50
    conn2 = server.accept()
    hello = conn2.expect("hello").hello
    assert hello.node_id == "n1" and hello.resume_token == TOKEN_1
    conn2.send(welcome(token=TOKEN_2, resumed=True))
    assert node.wait("welcome")["resumed"] is True
    conn.close()


def test_assigned_id_kept(start, server):
    node = start()  # no -id: the server assigns one
    conn = server.accept()
    assert conn.expect("hello").hello.node_id == ""
    conn.send(welcome(node_id="srv-7"))
    node.wait("welcome", node_id="srv-7")
    conn.close()  # the server goes away without a word
    node.wait("disconnected", reason="connection_closed")
    hello = server.accept().expect("hello").hello
    assert (hello.node_id, hello.resume_token) == ("srv-7", TOKEN_1)


def test_backoff_with_full_jitter(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    server.stop_listening()  # the server goes away and stays away
    conn.close()
    node.wait("disconnected", reason="connection_closed")
    events = [node.wait("reconnecting") for _ in range(6)]
    assert [e["attempt"] for e in events] == [1, 2, 3, 4, 5, 6]
    # Windows 50, 100, 200, 200, ... ms (base 50, cap 200): each delay below its window.
    for e, window in zip(events, [50, 100, 200, 200, 200, 200]):
        assert 0 <= e["delay_ms"] < window, events
    node.wait("connect_failed")


def test_nonfatal_errors_and_routing(start, server):
    node = start("-id", "n1", "-interval", "100")
    conn, _ = handshake(server, node)

    # Routing refused with a non-fatal error: reported, the node carries on.
    node.command(cmd="subscribe", subject="a.b")
    sub = conn.expect("subscribe").subscribe
    assert sub.subject == "a.b" and sub.request_id != 0
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_FORBIDDEN, message="later", ref=sub.request_id)))
    e = node.wait("error", code="FORBIDDEN")
    assert e["fatal"] is False and e["ref"] == sub.request_id
    node.wait("subscribe_failed", subject="a.b")

    node.command(cmd="publish", subject="a.b", payload="hi")
    pub = conn.expect("publish").publish
    assert (pub.subject, pub.payload) == ("a.b", b"hi")
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_INTERNAL, message="no routing yet")))
    node.wait("error", code="INTERNAL", fatal=False)

    node.command(cmd="send", to="n2", payload_b64="AAEC")
    s = conn.expect("send").send
    assert (s.node_id, s.payload) == ("n2", b"\x00\x01\x02")

    # Still alive: heartbeats go on and are answered.
    hb = conn.expect("heartbeat", skip=())
    conn.send(ack(hb))
    node.wait("heartbeat_ack", seq=hb.heartbeat.seq)

    # A subscription that works: deliveries on its channel, requests answered.
    node.command(cmd="subscribe", subject="$hb.presence")
    sub = conn.expect("subscribe").subscribe
    conn.send(Frame(subscribed=channel_pb2.Subscribed(request_id=sub.request_id, channel=3, subject="$hb.presence")))
    node.wait("subscribed", subject="$hb.presence", channel=3)
    conn.send(Frame(channel=3, presence=presence_pb2.PresenceEvent(
        kind=presence_pb2.PRESENCE_KIND_JOINED, node_id="n2", labels={"zone": "eu"}, reason="hello", time_ms=5, server_id="fake")))
    p = node.wait("presence", node_id="n2")
    assert (p["kind"], p["labels"], p["reason"], p["channel"]) == ("joined", {"zone": "eu"}, "hello", 3)

    conn.send(Frame(channel=0, delivery=channel_pb2.Delivery(
        kind=channel_pb2.DELIVERY_KIND_DIRECT, from_node_id="n2", payload=b"ping", request_id=42)))
    d = node.wait("delivery", **{"from": "n2"})
    assert (d["kind"], d["payload"], d["request_id"]) == ("direct", "ping", 42)
    reply = conn.expect("reply").reply
    assert (reply.node_id, reply.request_id, reply.payload) == ("n2", 42, b"ping")

    conn.send(Frame(reply=channel_pb2.Reply(node_id="n3", request_id=9, error_code=E.ERROR_CODE_UNKNOWN_NODE, error_message="gone")))
    r = node.wait("reply", request_id=9)
    assert (r["from"], r["error_code"]) == ("n3", "UNKNOWN_NODE")

    node.command(cmd="bogus")
    node.wait("command_error", cmd="bogus")


def test_fragmented_delivery(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node, max_message_size=1 << 20)
    big = Frame(delivery=channel_pb2.Delivery(kind=channel_pb2.DELIVERY_KIND_BROADCAST, payload=b"x" * 5000))
    parts = cut(marshal(big), 0, 7, 1000)
    assert len(parts) > 4
    for i, part in enumerate(parts):
        conn.send(part)
        if i == 1:
            conn.send(Frame(heartbeat_ack=liveness_pb2.HeartbeatAck(seq=99)))  # other frames may interleave
    d = node.wait("delivery", kind="broadcast")
    assert d["payload"] == "x" * 5000


def test_fragment_without_max_message_size_is_fatal(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)  # max_message_size 0: no fragments
    conn.send(cut(b"\x3a\x00" * 10, 0, 1, 8)[0])
    err = conn.expect("error").error
    assert (err.code, err.fatal) == (E.ERROR_CODE_MESSAGE_TOO_LARGE, True)
    node.wait("disconnected", reason="decode_error")
    assert conn.wait_closed()
    server.accept().expect("hello")


def test_large_publish_is_fragmented(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node, max_message_size=1 << 20)
    payload = "y" * 100_000  # > 64 KiB: sent as fragments of at most 64 KiB
    node.command(cmd="publish", subject="big.one", payload=payload)
    data = bytearray()
    total = None
    while True:
        frag = conn.expect("fragment").fragment
        assert len(frag.data) <= 64 * 1024
        if total is None:
            total = frag.total_length
        else:
            assert frag.total_length == 0
        data += frag.data
        if frag.final:
            break
    assert len(data) == total
    whole = decode_frame(bytes(data))
    assert (whole.publish.subject, whole.publish.payload) == ("big.one", payload.encode())


def test_too_large_without_fragments_is_refused(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)  # max frame size 1 MiB, no fragments
    node.command(cmd="publish", subject="big.one", payload="z" * (1 << 20))
    e = node.wait("command_error", cmd="publish")
    assert "MESSAGE_TOO_LARGE" in e["error"]
    node.command(cmd="publish", subject="small", payload="ok")  # the connection carries on
    assert conn.expect("publish").publish.subject == "small"


def test_flow_control_window(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node, initial_window=10)
    node.command(cmd="publish", subject="a", payload="12345678")  # 8 of 10 bytes
    assert conn.expect("publish").publish.payload == b"12345678"
    node.command(cmd="publish", subject="a", payload="abcdef")  # 6 > 2 left: held
    node.wait("flow_blocked")
    node.command(cmd="subscribe", subject="b")  # control frames are not held back
    assert conn.expect("subscribe").subscribe.subject == "b"
    conn.send(Frame(window_update=flow_pb2.WindowUpdate(credit=4)))
    assert conn.expect("publish").publish.payload == b"abcdef"


def test_unknown_channel_is_discarded(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    conn.send(Frame(channel=77, delivery=channel_pb2.Delivery(kind=channel_pb2.DELIVERY_KIND_PUBLISH, subject="x", payload=b"late")))
    conn.send(Frame(channel=77, presence=presence_pb2.PresenceEvent(kind=presence_pb2.PRESENCE_KIND_LEFT, node_id="z")))
    conn.send(Frame(delivery=channel_pb2.Delivery(kind=channel_pb2.DELIVERY_KIND_DIRECT, payload=b"marker")))
    d = node.wait("delivery")
    assert d["payload"] == "marker", "frames on an unknown channel must be discarded"
    assert not [e for e in node.log if e["event"] == "presence"]


def test_server_frame_out_of_place_is_a_violation(start, server):
    node = start("-id", "n1")
    conn = server.accept()
    conn.expect("hello")
    conn.send(Frame(heartbeat_ack=liveness_pb2.HeartbeatAck(seq=1)))  # before Welcome
    err = conn.expect("error").error
    assert (err.code, err.fatal) == (E.ERROR_CODE_PROTOCOL_VIOLATION, True)
    node.wait("disconnected", reason="protocol_violation")
    conn.close()
    server.accept().expect("hello")


def test_go_away_in_handshake(start, server):
    node = start("-id", "n1")
    conn = server.accept()
    conn.expect("hello")
    conn.send(Frame(go_away=handshake_pb2.GoAway(reason="draining")))  # code 0 reads as SHUTTING_DOWN
    assert node.wait("go_away")["code"] == "SHUTTING_DOWN"
    node.wait("disconnected", reason="go_away")


def test_permanent_refusal_exits_3(start, server):
    node = start("-id", "n1")
    conn = server.accept()
    conn.expect("hello")
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_UNAUTHORIZED, message="bad token", fatal=True)))
    conn.close()
    node.wait("closed", reason="permanent_error", code="UNAUTHORIZED")
    assert node.exit_code() == 3


def test_fatal_error_then_reconnect(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_HEARTBEAT_TIMEOUT, message="late", fatal=True)))
    conn.close()
    node.wait("disconnected", reason="protocol_error")
    conn2 = server.accept()
    assert conn2.expect("hello").hello.resume_token == TOKEN_1


def test_go_away_then_reconnect(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    conn.send(Frame(go_away=handshake_pb2.GoAway(code=E.ERROR_CODE_SHUTTING_DOWN, reason="restart", drain_ms=1000)))
    e = node.wait("go_away")
    assert (e["code"], e["drain_ms"]) == ("SHUTTING_DOWN", 1000)
    node.wait("disconnected", reason="go_away")
    assert conn.wait_closed(), "the node should close the connection on GoAway"
    server.accept().expect("hello")


def test_decode_error_is_reported_and_fatal(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    conn.send_raw(b"\x80\x80\x80\x80\x10")  # BAD_VARINT
    err = conn.expect("error").error
    assert err.code == E.ERROR_CODE_BAD_VARINT and err.fatal
    node.wait("disconnected", reason="decode_error")
    assert conn.wait_closed()
    server.accept().expect("hello")


def test_stop_heartbeats_then_drop(start, server):
    node = start("-id", "n1", "-interval", "100")
    conn, _ = handshake(server, node, timeout=400)
    conn.expect("heartbeat", skip=())
    node.command(cmd="stop-heartbeats")
    node.wait("heartbeats_stopped")
    # Drain what was in flight, then nothing for well over 3 intervals, and
    # the node does not give up on the server either (it is "frozen").
    time.sleep(0.15)
    while not conn.frames.empty():
        conn.frames.get_nowait()
    with pytest.raises(AssertionError, match="no frame"):
        conn.recv(timeout=0.7)
    assert not conn.closed.is_set()
    node.command(cmd="start-heartbeats")
    conn.expect("heartbeat", skip=())
    node.command(cmd="drop")
    node.wait("disconnected", reason="dropped")
    assert conn.wait_closed()
    assert server.accept().expect("hello").hello.resume_token == TOKEN_1


def test_sigterm_says_goodbye(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    node.signal(signal.SIGTERM)
    conn.expect("goodbye")
    conn.close()
    node.wait("closed", reason="signal")
    assert node.exit_code() == 0


def test_subscriptions_renewed_after_reconnect(start, server):
    node = start("-id", "n1")
    node.command(cmd="subscribe", subject="cfg.>")  # before Welcome: sent once the session is up
    conn, _ = handshake(server, node)
    assert conn.expect("subscribe").subscribe.subject == "cfg.>"
    node.command(cmd="drop")
    conn2 = server.accept()
    conn2.expect("hello")
    conn2.send(welcome(resumed=True))
    assert conn2.expect("subscribe").subscribe.subject == "cfg.>"


def test_heartbeats_not_held_back_by_a_large_message(start, server):
    node = start("-id", "n1", "-interval", "100")
    conn, _ = handshake(server, node, interval=100, timeout=5000, max_message_size=32 << 20)
    conn.expect("heartbeat", skip=())
    # The server stops reading while the node writes 12 MiB in 64 KiB pieces:
    # socket buffers fill up, heartbeats fall due meanwhile, and each must
    # go out after at most the piece being written, not after the message.
    conn.frames = __import__("queue").Queue()  # forget earlier frames
    paused = conn.pause()
    node.command(cmd="publish", subject="big", payload="q" * (12 << 20))
    time.sleep(1.0)
    paused.set()
    saw_heartbeat_before_final = False
    while True:
        f = conn.recv(timeout=10)
        body = f.WhichOneof("body")
        if body == "heartbeat":
            conn.send(ack(f))
            saw_heartbeat_before_final = True
        elif body == "fragment" and f.fragment.final:
            break
    assert saw_heartbeat_before_final, "heartbeats waited behind the whole message"


# -- v1 additions (PROTOCOL.md §15.2) ------------------------------------------------------


def test_hello_lists_features_role_and_the_token_files_credential(start, server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    node = start("-observer", "-token-file", str(token_file))
    hello = server.accept().expect("hello").hello
    assert list(hello.features) == ["heartbeat-rtt", "token-renewal"]
    assert hello.role == handshake_pb2.ROLE_OBSERVER
    assert hello.token == "from-the-file"
    node.kill()


def test_observer_with_a_will_is_refused(kind):
    p = NodeProcess(kind, ["-addr", "127.0.0.1:1", "-observer", "-will-subject", "a.b"])
    assert p.exit_code() == 2


def test_rtt_reported_in_the_next_heartbeat_only_when_granted(start, server):
    node = start("-id", "n1")
    conn = server.accept()
    conn.expect("hello")
    conn.send(welcome(interval=100, features=["heartbeat-rtt"]))
    node.wait("welcome")
    first = conn.expect("heartbeat", skip=())
    assert first.heartbeat.last_rtt_us == 0  # nothing measured yet
    time.sleep(0.03)  # a round trip of at least 30 ms
    conn.send(ack(first))
    node.wait("heartbeat_ack", seq=first.heartbeat.seq)
    second = conn.expect("heartbeat", skip=())
    assert 30_000 <= second.heartbeat.last_rtt_us < 2_000_000
    third = conn.expect("heartbeat", skip=())  # the second was not acked: nothing new to report
    assert third.heartbeat.last_rtt_us == 0
    conn.close()


def test_no_rtt_report_without_the_feature(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node, interval=100)
    for _ in range(3):
        hb = conn.expect("heartbeat", skip=())
        assert hb.heartbeat.last_rtt_us == 0
        conn.send(ack(hb))
    conn.close()


def test_go_away_with_a_delay_keeps_the_connection_then_reconnects_at_once(kind, server):
    # A backoff window of 10 s: a reconnect within a second can only be the server's instruction.
    node = NodeProcess(kind, ["-addr", server.addr, "-id", "n1", "-backoff-base", "10000", "-backoff-max", "10000"])
    try:
        conn, _ = handshake(server, node, interval=100)
        conn.send(Frame(go_away=handshake_pb2.GoAway(code=E.ERROR_CODE_SHUTTING_DOWN, drain_ms=5000, reconnect_delay_ms=600)))
        t0 = time.monotonic()
        e = node.wait("go_away")
        assert e["reconnect_delay_ms"] == 600
        beats = 0
        while time.monotonic() - t0 < 0.45:  # heartbeats go on meanwhile
            conn.send(ack(conn.expect("heartbeat", skip=())))
            beats += 1
        assert beats >= 3
        conn2 = server.accept(timeout=3)
        elapsed = time.monotonic() - t0
        assert 0.55 <= elapsed < 2.0, elapsed
        assert conn2.expect("hello").hello.resume_token == TOKEN_1
        assert conn.wait_closed()
    finally:
        node.kill()


def test_retry_after_delays_the_next_attempt(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    conn.close()
    conn2 = server.accept()
    conn2.expect("hello")
    conn2.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_SERVER_FULL, message="full", fatal=True, retry_after_ms=700)))
    t0 = time.monotonic()
    e = node.wait("error", code="SERVER_FULL")
    assert e["retry_after_ms"] == 700
    server.accept(timeout=3).expect("hello")
    assert time.monotonic() - t0 >= 0.65


def test_renews_its_credential_from_the_token_file_without_reconnecting(start, server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("t1")
    node = start("-id", "n1", "-token-file", str(token_file))
    conn = server.accept()
    assert conn.expect("hello").hello.token == "t1"
    conn.send(welcome(interval=100, timeout=5000, features=["token-renewal"], token_expires_in_ms=800, token_grace_ms=500))
    node.wait("welcome")
    token_file.write_text("t2\n")
    t0 = time.monotonic()
    renew = conn.expect("renew", skip=("heartbeat",))
    assert renew.renew.token == "t2" and time.monotonic() - t0 < 0.8
    # Refused: the node tries again, with what the file holds then.
    token_file.write_text("t3")
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_UNAUTHORIZED, message="bad signature", ref_body=24)))
    node.wait("renew_failed")
    assert conn.expect("renew", skip=("heartbeat",)).renew.token == "t3"
    conn.send(Frame(renewed=auth_pb2.Renewed(token_expires_in_ms=400)))
    node.wait("renewed", token_expires_in_ms=400)
    assert conn.expect("renew", skip=("heartbeat",)).renew.token == "t3"  # again before the new expiry
    conn.send(Frame(renewed=auth_pb2.Renewed()))
    node.wait("renewed", token_expires_in_ms=0)
    assert not conn.closed.is_set()
    conn.close()


def test_token_expired_is_final_with_a_fixed_token(start, server):
    node = start("-id", "n1", "-token", "fixed")
    conn = server.accept()
    conn.expect("hello")
    conn.send(welcome(features=["token-renewal"]))
    node.wait("welcome")
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_TOKEN_EXPIRED, message="expired", fatal=True)))
    node.wait("closed", reason="permanent_error", code="TOKEN_EXPIRED")
    assert node.exit_code() == 3


def test_token_expired_reconnects_with_a_fresh_credential_from_the_file(start, server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old")
    node = start("-id", "n1", "-token-file", str(token_file))
    conn, _ = handshake(server, node, features=["token-renewal"])
    token_file.write_text("fresh")
    conn.send(Frame(error=error_pb2.ProtocolError(code=E.ERROR_CODE_TOKEN_EXPIRED, message="expired", fatal=True)))
    hello = server.accept().expect("hello").hello
    assert (hello.token, hello.resume_token) == ("fresh", TOKEN_1)


def test_truncated_frame_answered_with_truncated_before_closing(start, server):
    node = start("-id", "n1")
    conn, _ = handshake(server, node)
    conn.send_raw(b"\x05\x3a\x02")  # a 5-byte frame cut after 2 bytes
    conn.sock.shutdown(socket.SHUT_WR)  # half-close: the server still reads
    err = conn.expect("error", skip=("heartbeat",))
    assert (err.error.code, err.error.fatal) == (E.ERROR_CODE_TRUNCATED, True)
    node.wait("disconnected", reason="decode_error")

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"

	"hb.example/go-node/framing"
	hbv1 "hb.example/go-node/gen/hb/v1"
)

// sessionResult says how a connection ended.
type sessionResult struct {
	welcomed bool   // the connection reached Welcome
	stop     bool   // Run must return (goodbye, signal or permanent refusal)
	reason   string // why Run stops ("goodbye", "signal")
	err      error  // *PermanentError when refused for good
}

// inbound is what the read goroutine hands over: a frame, or the end.
type inbound struct {
	frame *hbv1.Frame
	err   error // set once: decode error (*framing.Error), io.EOF or a socket error
}

// session is one connection's state; only Node.runSession's goroutine touches it.
type session struct {
	n    *Node
	conn net.Conn

	welcomed      bool
	welcome       *hbv1.Welcome
	peerMaxFrame  int           // Welcome.max_frame_size
	interval      time.Duration // negotiated heartbeat interval
	timeout       time.Duration // negotiated heartbeat timeout
	lastHeard     time.Time
	heartbeatsOff bool
	seq           uint64
	goingAway     bool
	features      map[string]bool // Welcome.features: what this connection may use
	rttToReport   uint32          // RTT measured since the last Heartbeat, µs (feature heartbeat-rtt)
	leaveC        <-chan time.Time // fires at the end of a GoAway's reconnect_delay_ms
	leaveTimer    *time.Timer

	// Credential renewal (feature token-renewal, PROTOCOL.md §5.8).
	renewC       <-chan time.Time
	renewTimer   *time.Timer
	renewPending bool
	tokenExpiry  time.Time // zero: never expires
	tokenGrace   time.Duration

	nextID      uint64            // Subscribe.request_id and request ids (one counter: ProtocolError.ref stays unambiguous)
	pendingSubs map[uint64]string // Subscribe.request_id → subject
	channels    map[uint32]string // channel → subject
	nextFragID  uint32
	reasm       framing.Reassembler // MaxMessageSize 0 (no fragments) until Welcome

	window   uint64 // flow-control credit left (meaningful when flowCtl)
	flowCtl  bool
	held     []outFrame // frames (or fragments) waiting for credit
	writeErr error
	w        *writer
	frames   <-chan inbound
}

// outFrame is a frame to write and what it costs in flow-control credit.
type outFrame struct {
	body []byte // encoded Frame, no prefix
	cost uint64
}

func (n *Node) runSession(ctx context.Context, c net.Conn, token string) sessionResult {
	defer c.Close()
	s := &session{
		n: n, conn: c, lastHeard: time.Now(), pendingSubs: map[uint64]string{}, channels: map[uint32]string{},
		peerMaxFrame: framing.DefaultMaxFrameSize, features: map[string]bool{},
	}
	defer s.stopTimers()
	frames := make(chan inbound, 64)
	s.frames = frames
	done := make(chan struct{})
	defer close(done)
	go readLoop(c, n.cfg.MaxFrameSize, frames, done)
	s.w = newWriter(c)
	defer s.w.stop()

	s.send(s.hello(token))
	handshake := time.NewTimer(n.cfg.HandshakeTimeout)
	defer handshake.Stop()
	var heartbeat, check <-chan time.Time
	var hbTicker, checkTicker *time.Ticker
	defer func() {
		if hbTicker != nil {
			hbTicker.Stop()
			checkTicker.Stop()
		}
	}()

	for {
		if s.writeErr != nil {
			return s.lost("socket_error", s.writeErr)
		}
		select {
		case err := <-s.w.errc:
			return s.lost("socket_error", err)
		case <-ctx.Done():
			return s.leave("signal", frames)
		case cmd := <-n.cmds:
			if cmd.Cmd == "goodbye" {
				reason := cmd.Reason
				if reason == "" {
					reason = "goodbye"
				}
				return s.leave(reason, frames)
			}
			if res, end := s.command(cmd); end {
				return res
			}
		case in := <-frames:
			if in.err != nil {
				return s.ended(in.err)
			}
			s.lastHeard = time.Now()
			res, end := s.handle(in.frame)
			if end {
				return res
			}
			if s.welcomed && heartbeat == nil {
				handshake.Stop()
				hbTicker = time.NewTicker(s.interval)
				heartbeat = hbTicker.C
				checkTicker = time.NewTicker(min(max(s.timeout/10, 10*time.Millisecond), time.Second))
				check = checkTicker.C
				s.sendHeartbeat() // a first one at once: it also measures the RTT
			}
		case <-handshake.C:
			if !s.welcomed {
				return s.lost("handshake_timeout", errors.New("no Welcome in time"))
			}
		case <-heartbeat:
			if !s.heartbeatsOff {
				s.sendHeartbeat()
			}
		case <-check:
			if !s.heartbeatsOff && time.Since(s.lastHeard) > s.timeout {
				return s.lost("heartbeat_timeout", errors.New("nothing heard from the server for the heartbeat timeout"))
			}
		case <-s.leaveC:
			// The GoAway's reconnect delay has passed: leave, and reconnect at once (Node.nextDelay).
			return s.lost("go_away", nil)
		case <-s.renewC:
			s.renewC = nil
			s.renew()
		}
	}
}

func readLoop(c net.Conn, maxFrameSize int, out chan<- inbound, done <-chan struct{}) {
	deliver := func(in inbound) bool {
		select {
		case out <- in:
			return true
		case <-done:
			return false
		}
	}
	dec, _ := framing.NewDecoder(maxFrameSize)
	buf := make([]byte, 64<<10)
	for {
		k, err := c.Read(buf)
		if k > 0 {
			ok := true
			derr := dec.Push(buf[:k], func(f *hbv1.Frame) {
				if ok {
					ok = deliver(inbound{frame: f})
				}
			})
			if !ok {
				return
			}
			if derr != nil {
				deliver(inbound{err: derr})
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if derr := dec.End(); derr != nil {
					err = derr
				}
			}
			deliver(inbound{err: err})
			return
		}
	}
}

func (s *session) hello(token string) *hbv1.Frame {
	cfg := s.n.cfg
	h := &hbv1.Hello{
		ProtocolVersion:     ProtocolVersion,
		NodeId:              s.n.nodeID,
		Labels:              cfg.Labels,
		Token:               token,
		HeartbeatIntervalMs: cfg.HeartbeatIntervalMs,
		ResumeToken:         s.n.resumeToken,
		ClientName:          cfg.ClientName,
		MaxFrameSize:        uint32(cfg.MaxFrameSize),
		Features:            []string{FeatureHeartbeatRTT, FeatureTokenRenewal},
	}
	if cfg.Observer {
		h.Role = hbv1.Role_ROLE_OBSERVER
	}
	if cfg.WillSubject != "" {
		h.Will = &hbv1.Will{Subject: cfg.WillSubject, Payload: cfg.WillPayload}
	}
	return &hbv1.Frame{Body: &hbv1.Frame_Hello{Hello: h}}
}

// send queues a frame that carries no payload: no flow control (§12).
// Heartbeats and ProtocolErrors go out before queued data.
func (s *session) send(f *hbv1.Frame) {
	parts, err := s.encode(f, 0)
	if err != nil {
		if s.writeErr == nil {
			s.writeErr = err
		}
		return
	}
	switch f.Body.(type) {
	case *hbv1.Frame_Heartbeat, *hbv1.Frame_Error:
		s.write(parts, true)
	default:
		s.write(parts, false)
	}
}

// sendPayload sends a frame that carries payloadLen bytes of payload
// (Publish, Send, Broadcast, Reply). While the flow-control window
// (Welcome.initial_window) has no room for it, it waits, in order, for
// WindowUpdate. It fails with MESSAGE_TOO_LARGE for a frame that cannot be
// sent at all.
func (s *session) sendPayload(f *hbv1.Frame, payloadLen int) error {
	parts, err := s.encode(f, payloadLen)
	if err != nil {
		return err
	}
	if !s.flowCtl {
		s.write(parts, false)
		return nil
	}
	s.held = append(s.held, parts...)
	s.flushHeld()
	return nil
}

// encode encodes f for the wire. A frame longer than the server's max frame
// size, or than 64 KiB, travels as fragments when the connection allows them
// (Welcome.max_message_size > 0); each piece then costs its data length in
// flow-control credit, else the frame costs payloadLen (§11, §12).
func (s *session) encode(f *hbv1.Frame, payloadLen int) ([]outFrame, error) {
	body, err := framing.Marshal(f)
	if err != nil {
		return nil, err
	}
	maxMsg := s.reasm.MaxMessageSize
	switch {
	case len(body) <= min(s.peerMaxFrame, framing.MaxFragmentPiece):
		return []outFrame{{body, uint64(payloadLen)}}, nil
	case maxMsg > 0 && uint64(len(body)) <= maxMsg:
		s.nextFragID++
		var parts []outFrame
		for _, p := range framing.Cut(body, f.Channel, s.nextFragID, framing.PieceSize(s.peerMaxFrame)) {
			pb, err := framing.Marshal(p)
			if err != nil {
				return nil, err
			}
			parts = append(parts, outFrame{pb, uint64(len(p.GetFragment().Data))})
		}
		return parts, nil
	case len(body) <= s.peerMaxFrame:
		return []outFrame{{body, uint64(payloadLen)}}, nil
	}
	return nil, &framing.Error{Code: hbv1.ErrorCode_ERROR_CODE_MESSAGE_TOO_LARGE,
		Message: fmt.Sprintf("a frame of %d bytes exceeds the server's max frame size %d and max message size %d", len(body), s.peerMaxFrame, maxMsg)}
}

// flushHeld writes the held frames, in order, while the window has room.
func (s *session) flushHeld() {
	i := 0
	for ; i < len(s.held) && s.held[i].cost <= s.window; i++ {
		s.window -= s.held[i].cost
	}
	if i > 0 {
		s.write(s.held[:i], false)
		s.held = append(s.held[:0], s.held[i:]...)
	}
	if len(s.held) > 0 {
		s.n.emit(Ev("flow_blocked", "held", len(s.held), "window", s.window))
	}
}

// write queues frames (or the pieces of one) for the writer goroutine.
func (s *session) write(parts []outFrame, urgent bool) {
	for _, p := range parts {
		s.w.push(item{wire: framing.AppendPrefixed(nil, p.body)}, urgent)
	}
}

func (s *session) sendHeartbeat() {
	s.seq++
	hb := &hbv1.Heartbeat{Seq: s.seq, SendTimeUs: s.n.monoMicros()}
	if s.features[FeatureHeartbeatRTT] {
		hb.LastRttUs = s.rttToReport // each measurement once (§6.7)
	}
	s.rttToReport = 0
	s.send(&hbv1.Frame{Body: &hbv1.Frame_Heartbeat{Heartbeat: hb}})
}

func (s *session) stopTimers() {
	if s.leaveTimer != nil {
		s.leaveTimer.Stop()
	}
	if s.renewTimer != nil {
		s.renewTimer.Stop()
	}
}

// planRenewal renews the credential at 3/4 of its lifetime (PROTOCOL.md
// §5.8), when the connection negotiated token-renewal and the node reads
// its credential from a file (a fixed one cannot be renewed).
func (s *session) planRenewal(expiresInMs uint64) {
	s.tokenExpiry = time.Time{}
	if expiresInMs == 0 || !s.features[FeatureTokenRenewal] || s.n.cfg.TokenFile == "" {
		return
	}
	life := time.Duration(expiresInMs) * time.Millisecond
	s.tokenExpiry = time.Now().Add(life)
	s.renewAfter(life * 3 / 4)
}

func (s *session) renewAfter(d time.Duration) {
	if s.renewTimer != nil {
		s.renewTimer.Stop()
	}
	s.renewTimer = time.NewTimer(d)
	s.renewC = s.renewTimer.C
}

// renewLater retries a failed renewal after a quarter of the time left
// before expiry plus grace (250 ms .. 30 s), while any is left.
func (s *session) renewLater() {
	if s.tokenExpiry.IsZero() {
		return
	}
	left := time.Until(s.tokenExpiry.Add(s.tokenGrace))
	if left <= 0 {
		return
	}
	s.renewAfter(min(left, max(250*time.Millisecond, min(30*time.Second, left/4))))
}

func (s *session) renew() {
	token, err := s.n.credential()
	if err != nil {
		s.n.emit(Ev("renew_failed", "error", err.Error()))
		s.renewLater()
		return
	}
	s.renewPending = true
	s.send(&hbv1.Frame{Body: &hbv1.Frame_Renew{Renew: &hbv1.Renew{Token: token}}})
	s.n.emit(Ev("renew_sent"))
}

// lost ends a connection that should be replaced by a new one.
func (s *session) lost(reason string, err error) sessionResult {
	ev := Ev("disconnected", "reason", reason)
	if err != nil {
		ev = ev.With("error", err.Error())
	}
	s.n.emit(ev)
	return sessionResult{welcomed: s.welcomed}
}

// ended handles the end of the inbound stream.
func (s *session) ended(err error) sessionResult {
	var ferr *framing.Error
	switch {
	case errors.As(err, &ferr):
		// Tell the server why, as it would tell us (best effort), then close.
		// TRUNCATED too: the server may only have half-closed (§3.2, §5.6).
		return s.fatal("decode_error", ferr, false)
	case errors.Is(err, io.EOF):
		if s.goingAway {
			return s.lost("go_away", nil)
		}
		return s.lost("connection_closed", nil)
	default:
		return s.lost("socket_error", err)
	}
}

// leave says Goodbye (when a session is up), waits for the server to close
// the connection, and stops the node.
func (s *session) leave(reason string, frames <-chan inbound) sessionResult {
	res := sessionResult{welcomed: s.welcomed, stop: true, reason: reason}
	if !s.welcomed {
		return res
	}
	s.send(&hbv1.Frame{Body: &hbv1.Frame_Goodbye{Goodbye: &hbv1.Goodbye{Reason: reason}}})
	if s.writeErr != nil {
		return res
	}
	s.n.emit(Ev("goodbye_sent", "reason", reason))
	deadline := time.NewTimer(s.n.cfg.GoodbyeTimeout)
	defer deadline.Stop()
	for {
		select {
		case in := <-frames:
			if in.err != nil {
				return res
			}
		case <-deadline.C:
			return res
		}
	}
}

// violation handles a frame the server must not send now: report it with a
// fatal PROTOCOL_VIOLATION and drop the connection.
func (s *session) violation(msg string) (sessionResult, bool) {
	return s.fatal("protocol_violation", &framing.Error{Code: hbv1.ErrorCode_ERROR_CODE_PROTOCOL_VIOLATION, Message: msg}, true), true
}

// fatal sends ProtocolError{code, fatal} and closes as §5.6 recommends:
// half-close, read and discard until the server closes (at most 1 s), so
// that a TCP reset does not destroy the error frame. reading says whether
// the read side is still open (not after a decode error).
func (s *session) fatal(reason string, e *framing.Error, reading bool) sessionResult {
	s.send(&hbv1.Frame{Body: &hbv1.Frame_Error{Error: &hbv1.ProtocolError{Code: e.Code, Message: e.Message, Fatal: true}}})
	if s.writeErr == nil {
		s.w.push(item{closeWrite: true}, true) // after the error frame, before any queued data
		if reading {
			deadline := time.NewTimer(time.Second)
			defer deadline.Stop()
		drain:
			for {
				select {
				case in := <-s.frames:
					if in.err != nil {
						break drain
					}
				case <-deadline.C:
					break drain
				}
			}
		} else {
			select {
			case <-s.w.flushed():
			case <-time.After(time.Second):
			}
		}
	}
	return s.lost(reason, e)
}

// handle processes one frame from the server; end=true ends the session.
func (s *session) handle(f *hbv1.Frame) (sessionResult, bool) {
	if !s.welcomed {
		switch b := f.Body.(type) {
		case *hbv1.Frame_Welcome:
			s.onWelcome(b.Welcome)
			return sessionResult{}, false
		case *hbv1.Frame_Error:
			return s.onError(f.Channel, b.Error)
		case *hbv1.Frame_GoAway:
			// handled below: clients accept GoAway in HANDSHAKE too (§5.2)
		default:
			return s.violation("expected Welcome, got " + bodyName(f))
		}
	}
	switch b := f.Body.(type) {
	case *hbv1.Frame_HeartbeatAck:
		us := s.n.monoMicros() - b.HeartbeatAck.SendTimeUs
		s.rttToReport = uint32(min(max(us, 1), math.MaxUint32))
		rtt := float64(us) / 1000
		s.n.emit(Ev("heartbeat_ack", "seq", b.HeartbeatAck.Seq, "rtt_ms", float64(int64(rtt*1000))/1000))
	case *hbv1.Frame_Error:
		return s.onError(f.Channel, b.Error)
	case *hbv1.Frame_GoAway:
		g := b.GoAway
		code := g.Code
		if code == hbv1.ErrorCode_ERROR_CODE_UNSPECIFIED {
			code = hbv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN // §4.6
		}
		s.n.emit(Ev("go_away", "code", framing.CodeName(code), "reason", g.Reason, "drain_ms", g.DrainMs,
			"reconnect_delay_ms", g.ReconnectDelayMs))
		s.goingAway = true // no new work on this connection (§5.5)
		delay := g.ReconnectDelayMs
		if g.DrainMs > 0 {
			delay = min(delay, g.DrainMs)
		}
		if delay == 0 {
			// Reconnect (with backoff) rather than wait for the drain to end.
			return s.lost("go_away", nil), true
		}
		if s.leaveTimer == nil {
			// Keep the connection (heartbeats, deliveries) until the delay, then reconnect at once.
			d := time.Duration(delay) * time.Millisecond
			s.n.waitExactly(d)
			s.leaveTimer = time.NewTimer(d)
			s.leaveC = s.leaveTimer.C
		}
	case *hbv1.Frame_Renewed:
		if !s.renewPending {
			break // no Renew of ours to answer
		}
		s.renewPending = false
		s.n.emit(Ev("renewed", "token_expires_in_ms", b.Renewed.TokenExpiresInMs))
		s.planRenewal(b.Renewed.TokenExpiresInMs)
	case *hbv1.Frame_Subscribed:
		sub := b.Subscribed
		subject, ok := s.pendingSubs[uint64(sub.RequestId)]
		delete(s.pendingSubs, uint64(sub.RequestId))
		if !ok {
			subject = sub.Subject
		}
		if sub.Subject != "" {
			subject = sub.Subject
		}
		s.channels[sub.Channel] = subject
		s.n.emit(Ev("subscribed", "subject", subject, "channel", sub.Channel, "request_id", sub.RequestId))
	case *hbv1.Frame_Delivery:
		if _, known := s.channels[f.Channel]; f.Channel != 0 && !known {
			break // a channel just unsubscribed: discard (§10.8)
		}
		s.onDelivery(f.Channel, b.Delivery)
	case *hbv1.Frame_Presence:
		if _, known := s.channels[f.Channel]; !known {
			break // §10.8
		}
		p := b.Presence
		labels := p.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		s.n.emit(Ev("presence", "kind", presenceKind(p.Kind), "node_id", p.NodeId, "labels", labels,
			"reason", p.Reason, "time_ms", p.TimeMs, "server_id", p.ServerId, "channel", f.Channel))
	case *hbv1.Frame_Reply:
		r := b.Reply
		ev := Ev("reply", "from", r.NodeId, "request_id", r.RequestId).With(payloadFields(r.Payload)...)
		if r.ErrorCode != hbv1.ErrorCode_ERROR_CODE_UNSPECIFIED {
			ev = ev.With("error_code", framing.CodeName(r.ErrorCode), "error_message", r.ErrorMessage)
		}
		s.n.emit(ev)
	case *hbv1.Frame_Fragment:
		whole, err := s.reasm.Add(b.Fragment)
		if err != nil {
			var ferr *framing.Error
			errors.As(err, &ferr)
			return s.fatal("decode_error", ferr, true), true
		}
		if whole != nil {
			return s.handle(whole)
		}
	case *hbv1.Frame_WindowUpdate:
		if f.Channel != 0 {
			break // v1 has connection-level flow control only (§3.6)
		}
		s.window += min(b.WindowUpdate.Credit, math.MaxUint64-s.window) // saturating (§12)
		s.flushHeld()
	default:
		return s.violation("a server does not send " + bodyName(f))
	}
	return sessionResult{}, false
}

func (s *session) onWelcome(w *hbv1.Welcome) {
	s.welcomed = true
	s.welcome = w
	s.n.nodeID = w.NodeId
	s.n.resumeToken = w.ResumeToken
	if w.MaxFrameSize > 0 {
		s.peerMaxFrame = int(w.MaxFrameSize)
	}
	s.interval = time.Duration(w.HeartbeatIntervalMs) * time.Millisecond
	if s.interval <= 0 {
		s.interval = 10 * time.Second
	}
	s.timeout = time.Duration(w.HeartbeatTimeoutMs) * time.Millisecond
	if s.timeout <= 0 {
		s.timeout = 3 * s.interval
	}
	if w.InitialWindow > 0 {
		s.flowCtl = true
		s.window = w.InitialWindow
	}
	s.reasm.MaxMessageSize = w.MaxMessageSize // both directions (§11)
	for _, f := range w.Features {
		s.features[f] = true
	}
	s.tokenGrace = time.Duration(w.TokenGraceMs) * time.Millisecond
	s.planRenewal(w.TokenExpiresInMs)
	role := "node"
	if w.Role == hbv1.Role_ROLE_OBSERVER {
		role = "observer"
	}
	s.n.emit(Ev("welcome", "node_id", w.NodeId, "session_id", w.SessionId, "server_id", w.ServerId,
		"resumed", w.Resumed, "heartbeat_interval_ms", w.HeartbeatIntervalMs, "heartbeat_timeout_ms", w.HeartbeatTimeoutMs,
		"max_frame_size", w.MaxFrameSize, "resume_grace_ms", w.ResumeGraceMs, "protocol_version", w.ProtocolVersion,
		"initial_window", w.InitialWindow, "max_message_size", w.MaxMessageSize, "features", append([]string{}, w.Features...),
		"role", role, "check_interval_ms", w.CheckIntervalMs, "handshake_timeout_ms", w.HandshakeTimeoutMs,
		"token_expires_in_ms", w.TokenExpiresInMs, "token_grace_ms", w.TokenGraceMs))
	// Subscriptions belong to a connection (channel numbers are per
	// connection): renew every wanted one.
	for _, subject := range s.n.subjects {
		s.subscribe(subject, s.n.filters[subject])
	}
}

func (s *session) onError(channel uint32, e *hbv1.ProtocolError) (sessionResult, bool) {
	ev := Ev("error", "code", framing.CodeName(e.Code), "message", e.Message, "ref", e.Ref, "fatal", e.Fatal, "channel", channel)
	if e.NodeId != "" {
		ev = ev.With("node_id", e.NodeId)
	}
	if e.RefBody != 0 {
		ev = ev.With("ref_body", e.RefBody)
	}
	if e.RetryAfterMs != 0 {
		ev = ev.With("retry_after_ms", e.RetryAfterMs)
	}
	s.n.emit(ev)
	if !e.Fatal && e.RefBody == refBodyRenew && s.renewPending {
		s.renewPending = false // refused: the session goes on under the old credential; try again
		s.n.emit(Ev("renew_failed", "error", framing.CodeName(e.Code)+": "+e.Message))
		s.renewLater()
		return sessionResult{}, false
	}
	if e.Fatal && e.RetryAfterMs > 0 {
		s.n.waitAtLeast(time.Duration(e.RetryAfterMs) * time.Millisecond)
	}
	if e.Code == hbv1.ErrorCode_ERROR_CODE_UNKNOWN_CHANNEL && channel != 0 {
		delete(s.channels, channel) // the server does not know it: forget it (§13.1)
	}
	if subject, ok := s.pendingSubs[e.Ref]; ok && e.Ref != 0 {
		delete(s.pendingSubs, e.Ref)
		s.n.emit(Ev("subscribe_failed", "subject", subject, "code", framing.CodeName(e.Code)))
	}
	if !e.Fatal {
		return sessionResult{}, false
	}
	ferr := &framing.Error{Code: e.Code, Message: e.Message}
	// An expired credential is final only when no fresh one can be had (§5.8, §6.6).
	expiredForGood := e.Code == hbv1.ErrorCode_ERROR_CODE_TOKEN_EXPIRED && s.n.cfg.TokenFile == ""
	if isPermanent(e.Code) || expiredForGood {
		s.n.emit(Ev("disconnected", "reason", "protocol_error", "error", ferr.Error()))
		return sessionResult{welcomed: s.welcomed, stop: true, err: &PermanentError{Err: ferr}}, true
	}
	return s.lost("protocol_error", ferr), true
}

func (s *session) onDelivery(channel uint32, d *hbv1.Delivery) {
	subject := d.Subject
	if subject == "" {
		subject = s.channels[channel]
	}
	ev := Ev("delivery", "kind", deliveryKind(d.Kind), "subject", subject, "from", d.FromNodeId, "channel", channel)
	if d.RequestId != 0 {
		ev = ev.With("request_id", d.RequestId)
	}
	s.n.emit(ev.With(payloadFields(d.Payload)...))
	if d.RequestId != 0 && !s.n.cfg.NoAutoReply {
		err := s.sendPayload(&hbv1.Frame{Body: &hbv1.Frame_Reply{Reply: &hbv1.Reply{
			NodeId: d.FromNodeId, RequestId: d.RequestId, Payload: d.Payload}}}, len(d.Payload))
		if err != nil {
			s.n.emit(Ev("command_error", "cmd", "reply", "error", err.Error()))
			return
		}
		s.n.emit(Ev("replied", "to", d.FromNodeId, "request_id", d.RequestId))
	}
}

func (s *session) subscribe(subject string, filter map[string]string) {
	s.nextID++
	s.pendingSubs[s.nextID] = subject
	s.send(&hbv1.Frame{Body: &hbv1.Frame_Subscribe{Subscribe: &hbv1.Subscribe{
		RequestId: uint32(s.nextID), Subject: subject, LabelFilter: filter}}})
}

// command runs a stdin command on the live connection.
func (s *session) command(cmd Command) (sessionResult, bool) {
	fail := func(msg string) (sessionResult, bool) {
		s.n.emit(Ev("command_error", "cmd", cmd.Cmd, "error", msg))
		return sessionResult{}, false
	}
	switch cmd.Cmd {
	case "subscribe", "unsubscribe":
		if cmd.Subject == "" {
			return fail(`"subject" is required`)
		}
		s.n.remember(cmd)
		if !s.welcomed || s.goingAway {
			return sessionResult{}, false // sent after the (next) Welcome
		}
		if cmd.Cmd == "subscribe" {
			s.subscribe(cmd.Subject, cmd.LabelFilter)
			return sessionResult{}, false
		}
		for ch, subj := range s.channels {
			if subj == cmd.Subject {
				delete(s.channels, ch)
				s.send(&hbv1.Frame{Channel: ch, Body: &hbv1.Frame_Unsubscribe{Unsubscribe: &hbv1.Unsubscribe{}}})
				s.n.emit(Ev("unsubscribed", "subject", subj, "channel", ch))
			}
		}
		return sessionResult{}, false
	case "stop-heartbeats":
		s.heartbeatsOff = true
		s.n.emit(Ev("heartbeats_stopped"))
		return sessionResult{}, false
	case "start-heartbeats":
		s.heartbeatsOff = false
		s.lastHeard = time.Now()
		s.n.emit(Ev("heartbeats_started"))
		if s.welcomed {
			s.sendHeartbeat()
		}
		return sessionResult{}, false
	case "drop":
		return s.lost("dropped", nil), true
	}
	if !s.welcomed || s.goingAway {
		return fail("not connected")
	}
	payload, err := cmd.PayloadBytes()
	if err != nil {
		return fail("bad payload_b64: " + err.Error())
	}
	var f *hbv1.Frame
	var requestID uint64
	switch cmd.Cmd {
	case "publish":
		if cmd.Subject == "" {
			return fail(`"subject" is required`)
		}
		f = &hbv1.Frame{Body: &hbv1.Frame_Publish{Publish: &hbv1.Publish{Subject: cmd.Subject, Payload: payload}}}
	case "send":
		if cmd.To == "" {
			return fail(`"to" is required`)
		}
		f = &hbv1.Frame{Body: &hbv1.Frame_Send{Send: &hbv1.Send{NodeId: cmd.To, Payload: payload}}}
	case "request":
		requestID = s.nextID + 1
		switch {
		case cmd.To != "":
			f = &hbv1.Frame{Body: &hbv1.Frame_Send{Send: &hbv1.Send{NodeId: cmd.To, Payload: payload, RequestId: requestID}}}
		case cmd.Subject != "":
			f = &hbv1.Frame{Body: &hbv1.Frame_Publish{Publish: &hbv1.Publish{Subject: cmd.Subject, Payload: payload, RequestId: requestID}}}
		default:
			return fail(`"to" or "subject" is required`)
		}
	case "broadcast":
		f = &hbv1.Frame{Body: &hbv1.Frame_Broadcast{Broadcast: &hbv1.Broadcast{Payload: payload}}}
	default:
		return fail("unknown command")
	}
	if err := s.sendPayload(f, len(payload)); err != nil {
		return fail(err.Error())
	}
	if requestID != 0 {
		s.nextID = requestID
		s.n.emit(Ev("request_sent", "request_id", requestID))
	}
	return sessionResult{}, false
}

// refBodyRenew is ProtocolError.ref_body of an error answering a Renew (Frame field 24).
const refBodyRenew = 24

func bodyName(f *hbv1.Frame) string {
	if f.Body == nil {
		return "nothing"
	}
	return string(f.ProtoReflect().WhichOneof(f.ProtoReflect().Descriptor().Oneofs().ByName("body")).Name())
}

func presenceKind(k hbv1.PresenceKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "PRESENCE_KIND_"))
}

func deliveryKind(k hbv1.DeliveryKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "DELIVERY_KIND_"))
}

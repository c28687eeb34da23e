// Package node is an hb v1 node written from proto/ and docs/PROTOCOL.md:
// it connects over TCP, says Hello, heartbeats on the negotiated interval,
// notices a dead server when nothing (not even a HeartbeatAck) arrives for
// the negotiated timeout, reconnects with exponential backoff and full
// jitter presenting its resume token, subscribes, publishes, sends, answers
// requests, and says Goodbye when told to stop.
//
// Everything it observes is reported as Events; it is driven by Commands.
package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"hb.example/go-node/framing"
	hbv1 "hb.example/go-node/gen/hb/v1"
)

// ProtocolVersion is the hb protocol version this node speaks.
const ProtocolVersion = 1

// Features the node implements, listed in every Hello (PROTOCOL.md §15.1).
const (
	FeatureHeartbeatRTT = "heartbeat-rtt"
	FeatureTokenRenewal = "token-renewal"
)

// PermanentError ends Run: the server refused the node in a way a retry
// would not change (UNAUTHORIZED, UNSUPPORTED_VERSION, INVALID_ARGUMENT,
// DUPLICATE_NODE).
type PermanentError struct{ Err *framing.Error }

func (e *PermanentError) Error() string { return "permanent refusal: " + e.Err.Error() }

// isPermanent: retrying with the same Hello is refused the same way, or (for
// DUPLICATE_NODE) would take the id back from the newer connection that
// replaced this one, and the two would evict each other forever.
func isPermanent(code hbv1.ErrorCode) bool {
	switch code {
	case hbv1.ErrorCode_ERROR_CODE_UNAUTHORIZED, hbv1.ErrorCode_ERROR_CODE_UNSUPPORTED_VERSION,
		hbv1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, hbv1.ErrorCode_ERROR_CODE_DUPLICATE_NODE:
		return true
	}
	return false
}

// Node is one hb node. Create it with New, feed commands with Commands, run it with Run.
type Node struct {
	cfg    Config
	emit   Emitter
	cmds   chan Command
	random func() float64
	start  time.Time

	nodeID      string   // id to ask for (the assigned one after a first Welcome)
	resumeToken []byte   // from the last Welcome
	subjects    []string // wanted subscriptions, renewed on every connection
	filters     map[string]map[string]string

	// The server's wait before the next attempt (PROTOCOL.md §6.6): not
	// before notBefore; exactly then when exact (a GoAway's
	// reconnect_delay_ms), else at least then (a refusal's retry_after_ms).
	notBefore time.Time
	exact     bool
}

// credential is the token for a Hello or a Renew: read from TokenFile when
// set, else Token.
func (n *Node) credential() (string, error) {
	if n.cfg.TokenFile == "" {
		return n.cfg.Token, nil
	}
	b, err := os.ReadFile(n.cfg.TokenFile)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// waitAtLeast asks that the next attempt not come before d from now (a
// refusal's retry_after_ms); waitExactly that it come exactly then (a
// GoAway's reconnect_delay_ms).
func (n *Node) waitAtLeast(d time.Duration) { n.notBefore, n.exact = time.Now().Add(d), false }
func (n *Node) waitExactly(d time.Duration) { n.notBefore, n.exact = time.Now().Add(d), true }

// nextDelay is the delay before attempt number attempt: full jitter, unless
// the server said when.
func (n *Node) nextDelay(attempt int) time.Duration {
	delay := BackoffDelay(attempt, n.cfg.BackoffBase, n.cfg.BackoffMax, n.random)
	if !n.notBefore.IsZero() {
		wait := max(time.Until(n.notBefore), 0)
		if n.exact || wait > delay {
			delay = wait
		}
		n.notBefore, n.exact = time.Time{}, false
	}
	return delay
}

// New returns a node; emit receives every event.
func New(cfg Config, emit Emitter) (*Node, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &Node{
		cfg: cfg, emit: emit, cmds: make(chan Command, 64), random: rand.Float64, start: time.Now(),
		nodeID: cfg.NodeID, filters: map[string]map[string]string{},
	}, nil
}

// Commands is where commands go; Run reads them.
func (n *Node) Commands() chan<- Command { return n.cmds }

// Run connects and keeps the node online until ctx is cancelled or a goodbye
// command arrives (then it says Goodbye and returns nil), or the server
// refuses it for good (*PermanentError).
func (n *Node) Run(ctx context.Context) error {
	attempt := 0 // attempts since the last Welcome
	for {
		n.emit(Ev("connecting", "addr", n.cfg.Addr, "attempt", attempt))
		token, err := n.credential()
		var c net.Conn
		if err == nil {
			d := net.Dialer{Timeout: n.cfg.DialTimeout}
			c, err = d.DialContext(ctx, "tcp", n.cfg.Addr)
		}
		if err != nil {
			if ctx.Err() != nil {
				n.emit(Ev("closed", "reason", "signal"))
				return nil
			}
			n.emit(Ev("connect_failed", "error", err.Error()))
		} else {
			res := n.runSession(ctx, c, token)
			if res.welcomed {
				attempt = 0
			}
			if res.stop {
				if res.err != nil {
					var pe *PermanentError
					ev := Ev("closed", "reason", "permanent_error", "error", res.err.Error())
					if errors.As(res.err, &pe) {
						ev = ev.With("code", pe.Err.CodeName())
					}
					n.emit(ev)
					return res.err
				}
				n.emit(Ev("closed", "reason", res.reason))
				return nil
			}
		}
		delay := n.nextDelay(attempt)
		attempt++
		n.emit(Ev("reconnecting", "attempt", attempt, "delay_ms", delay.Milliseconds()))
		if reason, stop := n.wait(ctx, delay); stop {
			n.emit(Ev("closed", "reason", reason))
			return nil
		}
	}
}

// wait sleeps for d while handling commands that need no connection; it
// returns stop=true when told to stop.
func (n *Node) wait(ctx context.Context, d time.Duration) (string, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "signal", true
		case <-t.C:
			return "", false
		case cmd := <-n.cmds:
			switch cmd.Cmd {
			case "goodbye":
				return "goodbye", true
			case "subscribe", "unsubscribe":
				n.remember(cmd)
			default:
				n.emit(Ev("command_error", "cmd", cmd.Cmd, "error", "not connected"))
			}
		}
	}
}

// remember keeps the wanted subscriptions, which every new connection renews.
func (n *Node) remember(cmd Command) {
	switch cmd.Cmd {
	case "subscribe":
		if !slices.Contains(n.subjects, cmd.Subject) {
			n.subjects = append(n.subjects, cmd.Subject)
		}
		n.filters[cmd.Subject] = cmd.LabelFilter
	case "unsubscribe":
		n.subjects = slices.DeleteFunc(n.subjects, func(s string) bool { return s == cmd.Subject })
		delete(n.filters, cmd.Subject)
	}
}

// monoMicros is the node's monotonic clock for Heartbeat.send_time_us.
func (n *Node) monoMicros() uint64 { return uint64(time.Since(n.start).Microseconds()) }

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
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"hb.example/go-node/framing"
	hbv1 "hb.example/go-node/gen/hb/v1"
)

// ProtocolVersion is the hb protocol version this node speaks.
const ProtocolVersion = 1

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
		d := net.Dialer{Timeout: n.cfg.DialTimeout}
		c, err := d.DialContext(ctx, "tcp", n.cfg.Addr)
		if err != nil {
			if ctx.Err() != nil {
				n.emit(Ev("closed", "reason", "signal"))
				return nil
			}
			n.emit(Ev("connect_failed", "error", err.Error()))
		} else {
			res := n.runSession(ctx, c)
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
		delay := BackoffDelay(attempt, n.cfg.BackoffBase, n.cfg.BackoffMax, n.random)
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

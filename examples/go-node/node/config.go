package node

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"hb.example/go-node/framing"
)

// MinAnnouncedFrameSize is the smallest max frame size a peer may announce
// (docs/PROTOCOL.md §3.3).
const MinAnnouncedFrameSize = 1024

// Config is what a node needs to run. Durations are wall-clock; the zero
// value of each optional field means its default.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// NodeID is the id to ask for; empty lets the server assign one (which
	// the node then keeps asking for on reconnects).
	NodeID string
	// Labels are the node's metadata labels.
	Labels map[string]string
	// Token is the credential for the server's authentication hook.
	Token string
	// TokenFile, when set, names a file holding the credential instead of
	// Token: read afresh for every Hello and every renewal (feature
	// token-renewal), so that whoever writes it can rotate credentials.
	TokenFile string
	// Observer connects as an observer (Hello.role ROLE_OBSERVER): not a
	// node, never in presence; no will allowed.
	Observer bool
	// HeartbeatIntervalMs is the interval to ask for; 0: the server's default.
	HeartbeatIntervalMs uint32
	// ClientName is sent in Hello.client_name.
	ClientName string
	// MaxFrameSize is the largest frame accepted from the server
	// (Hello.max_frame_size), 1024..64 MiB; 0: 1 MiB.
	MaxFrameSize int
	// WillSubject and WillPayload, when WillSubject is set, make Hello.will.
	WillSubject string
	WillPayload []byte
	// BackoffBase is the first reconnect window (default 1 s); BackoffMax the
	// largest (default 30 s): the values docs/PROTOCOL.md §6.6 recommends.
	BackoffBase, BackoffMax time.Duration
	// DialTimeout bounds the TCP connect (default 5 s); HandshakeTimeout the wait for Welcome (default 10 s).
	DialTimeout, HandshakeTimeout time.Duration
	// GoodbyeTimeout bounds the wait for the server to close after Goodbye (default 2 s).
	GoodbyeTimeout time.Duration
	// NoAutoReply turns off answering requests (a Delivery with a request_id) with an echo of their payload.
	NoAutoReply bool
}

// WithDefaults returns c with every unset optional field at its default,
// or an error when a field is out of range.
func (c Config) WithDefaults() (Config, error) {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		return c, fmt.Errorf("addr %q is not host:port", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return c, fmt.Errorf("addr %q has no valid port", c.Addr)
	}
	if c.ClientName == "" {
		c.ClientName = "hb-go-node/0.1.0"
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = framing.DefaultMaxFrameSize
	}
	if c.MaxFrameSize < MinAnnouncedFrameSize || c.MaxFrameSize > framing.MaxFrameSizeLimit {
		return c, fmt.Errorf("max frame size must be in %d..%d", MinAnnouncedFrameSize, framing.MaxFrameSizeLimit)
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 30 * time.Second
	}
	if c.BackoffMax < c.BackoffBase {
		return c, errors.New("backoff max must be at least backoff base")
	}
	if c.Observer && c.WillSubject != "" {
		return c, errors.New("an observer has no will (PROTOCOL.md §5.7)")
	}
	if c.Token != "" && c.TokenFile != "" {
		return c, errors.New("give a token or a token file, not both")
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.GoodbyeTimeout <= 0 {
		c.GoodbyeTimeout = 2 * time.Second
	}
	return c, nil
}

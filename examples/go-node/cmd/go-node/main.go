// Command go-node is an hb v1 node for test harnesses and for reading: it
// prints one JSON event per line on stdout and takes one JSON command per
// line on stdin (see ../../README.md).
//
//	go-node -addr 127.0.0.1:9501 -id sensor-1 -label zone=eu -label rack=4
//
// Exit status: 0 after a Goodbye (command, SIGINT or SIGTERM), 2 for bad
// flags, 3 when the server refuses the node for good (UNAUTHORIZED,
// UNSUPPORTED_VERSION, INVALID_ARGUMENT, DUPLICATE_NODE; TOKEN_EXPIRED
// without -token-file).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"hb.example/go-node/node"
)

type labelFlag map[string]string

func (l labelFlag) String() string { return fmt.Sprint(map[string]string(l)) }
func (l labelFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("label %q is not key=value", v)
	}
	l[k] = val
	return nil
}

func main() {
	labels := labelFlag{}
	var cfg node.Config
	var willPayload string
	var backoffBase, backoffMax, handshake int
	var exitOnEOF bool
	fs := flag.NewFlagSet("go-node", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9501", "server host:port")
	fs.StringVar(&cfg.NodeID, "id", "", "node id to ask for (empty: the server assigns one)")
	fs.Var(labels, "label", "label key=value (repeatable)")
	fs.StringVar(&cfg.Token, "token", "", "credential for the server's authentication hook")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "file holding the credential, read for every Hello and renewal (instead of -token)")
	fs.BoolVar(&cfg.Observer, "observer", false, "connect as an observer (not a node: never in presence; no will)")
	var interval uint
	fs.UintVar(&interval, "interval", 0, "heartbeat interval to ask for, ms (0: the server's default)")
	fs.IntVar(&cfg.MaxFrameSize, "max-frame-size", 0, "largest frame accepted from the server, 1024..67108864 bytes (0: 1 MiB)")
	fs.StringVar(&cfg.WillSubject, "will-subject", "", "subject of the last will (empty: no will)")
	fs.StringVar(&willPayload, "will-payload", "", "payload of the last will")
	fs.IntVar(&backoffBase, "backoff-base", 1000, "first reconnect backoff window, ms")
	fs.IntVar(&backoffMax, "backoff-max", 30000, "largest reconnect backoff window, ms")
	fs.IntVar(&handshake, "handshake-timeout", 10000, "how long to wait for Welcome, ms")
	fs.BoolVar(&cfg.NoAutoReply, "no-auto-reply", false, "do not answer requests (by default a request is answered with its own payload)")
	fs.BoolVar(&exitOnEOF, "exit-on-eof", false, "say Goodbye and exit when stdin ends")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	cfg.Labels = labels
	cfg.HeartbeatIntervalMs = uint32(interval)
	cfg.WillPayload = []byte(willPayload)
	cfg.BackoffBase = time.Duration(backoffBase) * time.Millisecond
	cfg.BackoffMax = time.Duration(backoffMax) * time.Millisecond
	cfg.HandshakeTimeout = time.Duration(handshake) * time.Millisecond

	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	emit := func(ev node.Event) {
		b, err := json.Marshal(ev)
		if err != nil {
			b, _ = json.Marshal(node.Ev("internal_error", "error", err.Error()))
		}
		mu.Lock()
		defer mu.Unlock()
		out.Write(b)
		out.WriteByte('\n')
		out.Flush()
	}

	n, err := node.New(cfg, emit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-node:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			cmd, err := node.ParseCommand([]byte(line))
			if err != nil {
				emit(node.Ev("command_error", "error", err.Error(), "line", line))
				continue
			}
			n.Commands() <- cmd
		}
		if exitOnEOF {
			n.Commands() <- node.Command{Cmd: "goodbye", Reason: "stdin closed"}
		}
	}()

	if err := n.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "go-node:", err)
		os.Exit(3)
	}
}

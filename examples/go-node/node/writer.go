package node

import (
	"net"
	"sync"
	"time"
)

// writer owns the socket's write side. Urgent frames (Heartbeat,
// ProtocolError) go out before queued data, so that a heartbeat waits behind
// at most the one frame or fragment being written (docs/PROTOCOL.md §6.2,
// §11); everything else keeps its order.
type writer struct {
	conn  net.Conn
	mu    sync.Mutex
	ctrl  []item
	data  []item
	wake  chan struct{}
	errc  chan error // the first write error
	done  chan struct{}
	idle  chan struct{} // closed and replaced when the queues run empty
	state bool          // guarded by mu: writing
}

// item is one encoded frame (with its length prefix), or a half-close.
type item struct {
	wire       []byte
	closeWrite bool
}

func newWriter(conn net.Conn) *writer {
	w := &writer{conn: conn, wake: make(chan struct{}, 1), errc: make(chan error, 1), done: make(chan struct{}), idle: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) push(it item, urgent bool) {
	w.mu.Lock()
	if urgent {
		w.ctrl = append(w.ctrl, it)
	} else {
		w.data = append(w.data, it)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// flushed returns a channel closed once everything queued so far is written
// (or writing has failed).
func (w *writer) flushed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ctrl) == 0 && len(w.data) == 0 && !w.state {
		c := make(chan struct{})
		close(c)
		return c
	}
	return w.idle
}

func (w *writer) stop() { close(w.done) }

func (w *writer) run() {
	for {
		w.mu.Lock()
		var it item
		ok := true
		switch {
		case len(w.ctrl) > 0:
			it, w.ctrl = w.ctrl[0], w.ctrl[1:]
		case len(w.data) > 0:
			it, w.data = w.data[0], w.data[1:]
		default:
			ok = false
			w.state = false
			close(w.idle)
			w.idle = make(chan struct{})
		}
		if ok {
			w.state = true
		}
		w.mu.Unlock()
		if !ok {
			select {
			case <-w.wake:
				continue
			case <-w.done:
				return
			}
		}
		var err error
		if it.closeWrite {
			if tc, isTCP := w.conn.(*net.TCPConn); isTCP {
				err = tc.CloseWrite()
			}
		} else {
			_ = w.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err = w.conn.Write(it.wire)
		}
		if err != nil {
			w.errc <- err
			w.mu.Lock()
			w.state = false
			close(w.idle)
			w.idle = make(chan struct{})
			w.ctrl, w.data = nil, nil
			w.mu.Unlock()
			<-w.done
			return
		}
	}
}

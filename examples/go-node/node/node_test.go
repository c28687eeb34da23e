package node

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

func TestBackoffFullJitter(t *testing.T) {
	base, cap := 100*time.Millisecond, time.Second
	for attempt, window := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		window *= time.Millisecond
		if d := BackoffDelay(attempt, base, cap, func() float64 { return 0.999999 }); d >= window || d < window-time.Millisecond {
			t.Errorf("attempt %d: top of the window %v, got %v", attempt, window, d)
		}
		if d := BackoffDelay(attempt, base, cap, func() float64 { return 0 }); d != 0 {
			t.Errorf("attempt %d: bottom of the window is 0, got %v", attempt, d)
		}
	}
	if d := BackoffDelay(1000, base, cap, func() float64 { return 0.5 }); d != cap/2 {
		t.Errorf("huge attempt: %v", d)
	}
	if d := BackoffDelay(0, base, cap, func() float64 { return 7 }); d != 0 {
		t.Errorf("bad random: %v", d)
	}
}

func TestEventJSONKeepsOrder(t *testing.T) {
	b, err := json.Marshal(Ev("delivery", "kind", "direct", "from", "n2").With(payloadFields([]byte("hi"))...))
	if err != nil || string(b) != `{"event":"delivery","kind":"direct","from":"n2","payload":"hi"}` {
		t.Fatalf("%s %v", b, err)
	}
	b, _ = json.Marshal(Ev("reply").With(payloadFields([]byte{0xff, 0})...))
	if string(b) != `{"event":"reply","payload_b64":"/wA="}` {
		t.Fatalf("%s", b)
	}
}

func TestParseCommand(t *testing.T) {
	c, err := ParseCommand([]byte(`{"cmd":"send","to":"n2","payload_b64":"AAE="}`))
	if err != nil || c.Cmd != "send" || c.To != "n2" {
		t.Fatal(c, err)
	}
	if p, err := c.PayloadBytes(); err != nil || string(p) != "\x00\x01" {
		t.Fatal(p, err)
	}
	for _, bad := range []string{`nope`, `{}`, `{"cmd":""}`, `[1]`} {
		if _, err := ParseCommand([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestConfigDefaultsAndLimits(t *testing.T) {
	c, err := Config{Addr: "127.0.0.1:9501"}.WithDefaults()
	if err != nil || c.BackoffBase != time.Second || c.BackoffMax != 30*time.Second || c.MaxFrameSize != 1<<20 {
		t.Fatal(c, err)
	}
	for _, bad := range []Config{{}, {Addr: "nohost"}, {Addr: "127.0.0.1:"}, {Addr: "h:70000"}, {Addr: "h:1", MaxFrameSize: 1000}} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestConfigRefusesObserverWillAndTwoTokens(t *testing.T) {
	if _, err := (Config{Addr: "h:1", Observer: true, WillSubject: "a.b"}).WithDefaults(); err == nil {
		t.Error("an observer with a will was accepted")
	}
	if _, err := (Config{Addr: "h:1", Token: "t", TokenFile: "/f"}).WithDefaults(); err == nil {
		t.Error("a token and a token file were accepted together")
	}
}

func TestNextDelayHonoursTheServersWait(t *testing.T) {
	n, err := New(Config{Addr: "h:1", BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}, func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	n.random = func() float64 { return 0.5 } // jitter: 50 ms at attempt 0
	if d := n.nextDelay(0); d != 50*time.Millisecond {
		t.Fatalf("plain backoff: %v", d)
	}
	n.waitAtLeast(400 * time.Millisecond) // retry_after_ms: at least
	if d := n.nextDelay(0); d < 390*time.Millisecond || d > 400*time.Millisecond {
		t.Fatalf("retry_after 400 ms: %v", d)
	}
	n.waitAtLeast(10 * time.Millisecond) // shorter than the jitter: the jitter wins
	if d := n.nextDelay(0); d != 50*time.Millisecond {
		t.Fatalf("retry_after below the jitter: %v", d)
	}
	n.waitExactly(0) // a GoAway's delay that has passed: at once, no jitter
	if d := n.nextDelay(0); d != 0 {
		t.Fatalf("GoAway delay passed: %v", d)
	}
	if d := n.nextDelay(0); d != 50*time.Millisecond {
		t.Fatalf("the wait is used once: %v", d)
	}
}

func TestCredentialIsReadAfreshFromTheTokenFile(t *testing.T) {
	path := t.TempDir() + "/token"
	n, err := New(Config{Addr: "h:1", TokenFile: path}, func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.credential(); err == nil {
		t.Fatal("a missing token file gave a credential")
	}
	for _, want := range []string{"one", "two"} {
		if err := os.WriteFile(path, []byte(want+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := n.credential(); err != nil || got != want {
			t.Fatalf("credential %q %v, want %q", got, err, want)
		}
	}
}

package node

import "time"

// BackoffDelay is the delay before reconnect attempt number attempt (0-based)
// with "full jitter": uniformly random in [0, min(max, base·2^attempt)).
// random returns a uniform number in [0, 1).
func BackoffDelay(attempt int, base, max time.Duration, random func() float64) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	window := max
	if attempt < 40 {
		if w := base << attempt; w > 0 && w < max {
			window = w
		}
	}
	r := random()
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(r * float64(window)).Truncate(time.Millisecond)
}

package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Event is one line of the node's JSON event log: {"event": name, ...} with
// the fields in the order given.
type Event struct {
	Name   string
	fields []any // key, value, key, value, ...
}

// Ev builds an Event from key/value pairs.
func Ev(name string, kv ...any) Event { return Event{Name: name, fields: kv} }

// With returns e with more key/value pairs.
func (e Event) With(kv ...any) Event {
	e.fields = append(append([]any(nil), e.fields...), kv...)
	return e
}

// Get returns the value of key, or nil.
func (e Event) Get(key string) any {
	for i := 0; i+1 < len(e.fields); i += 2 {
		if e.fields[i] == key {
			return e.fields[i+1]
		}
	}
	return nil
}

// MarshalJSON writes {"event": Name, fields...} keeping the order.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"event":`)
	name, _ := json.Marshal(e.Name)
	b.Write(name)
	for i := 0; i+1 < len(e.fields); i += 2 {
		k, _ := json.Marshal(e.fields[i])
		v, err := json.Marshal(e.fields[i+1])
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Emitter receives the node's events, one at a time, from the node's goroutine.
type Emitter func(Event)

// payloadFields renders a payload as "payload" (text) when it is valid
// UTF-8, else as "payload_b64" (standard base64).
func payloadFields(p []byte) []any {
	if utf8.Valid(p) {
		return []any{"payload", string(p)}
	}
	return []any{"payload_b64", base64.StdEncoding.EncodeToString(p)}
}

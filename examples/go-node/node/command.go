package node

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Command is one line of the node's stdin: a JSON object with "cmd".
//
//	{"cmd":"subscribe","subject":"a.b"}            also "$hb.presence", with optional "label_filter":{...}
//	{"cmd":"unsubscribe","subject":"a.b"}
//	{"cmd":"publish","subject":"a.b","payload":"text"}   or "payload_b64"
//	{"cmd":"send","to":"node","payload":"text"}
//	{"cmd":"request","to":"node","payload":"..."}  or "subject" instead of "to"
//	{"cmd":"broadcast","payload":"..."}
//	{"cmd":"stop-heartbeats"} / {"cmd":"start-heartbeats"}
//	{"cmd":"drop"}                                  close the socket without Goodbye (then reconnect)
//	{"cmd":"goodbye","reason":"..."}                leave gracefully and exit
type Command struct {
	Cmd         string            `json:"cmd"`
	Subject     string            `json:"subject"`
	To          string            `json:"to"`
	Payload     *string           `json:"payload"`
	PayloadB64  *string           `json:"payload_b64"`
	Reason      string            `json:"reason"`
	LabelFilter map[string]string `json:"label_filter"`
}

// ParseCommand parses one stdin line.
func ParseCommand(line []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(line, &c); err != nil {
		return c, fmt.Errorf("not a JSON command: %v", err)
	}
	if c.Cmd == "" {
		return c, errors.New(`missing "cmd"`)
	}
	return c, nil
}

// PayloadBytes is the command's payload: "payload" as UTF-8, or "payload_b64" decoded.
func (c Command) PayloadBytes() ([]byte, error) {
	if c.PayloadB64 != nil {
		return base64.StdEncoding.DecodeString(*c.PayloadB64)
	}
	if c.Payload != nil {
		return []byte(*c.Payload), nil
	}
	return nil, nil
}

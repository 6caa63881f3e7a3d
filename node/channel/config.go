package channel

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Config is the parsed join payload (docs/protocol.md#join-payload). Invalid fields never fail the join: they are
// reported in Problems (logged as InvalidJoinPayload) and take their defaults.
type Config struct {
	AccessToken      *string
	UserToken        *string
	Private          bool
	Self             bool
	Ack              bool
	ReplicationReady bool
	PresenceEnabled  bool
	PresenceKey      string // "" = generate
	// Replay and PostgresChanges are the raw values, read later as docs/protocol.md#join-payload describes.
	Replay json.RawMessage
	// ReplayPresent: config.broadcast has a "replay" key, whatever its value (even null).
	ReplayPresent   bool
	PostgresChanges json.RawMessage
	// Legacy is true when the payload has no "config" key at all.
	Legacy   bool
	Problems []string
}

// ParseConfig parses a phx_join payload. It never fails.
func ParseConfig(payload json.RawMessage) Config {
	var c Config
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		c.Problems = append(c.Problems, "payload: unable to parse, expected a map")
		c.Legacy = true
		return c
	}
	c.AccessToken = optString(top["access_token"], "access_token", &c.Problems)
	c.UserToken = optString(top["user_token"], "user_token", &c.Problems)
	raw, ok := top["config"]
	if !ok {
		c.Legacy = true
		return c
	}
	var cfg map[string]json.RawMessage
	if !isNull(raw) && json.Unmarshal(raw, &cfg) != nil {
		c.Problems = append(c.Problems, "config: unable to parse, expected a map")
		return c
	}
	c.Private = boolField(cfg["private"], "config.private", &c.Problems)
	c.PostgresChanges = cfg["postgres_changes"]
	if b := object(cfg["broadcast"], "config.broadcast", &c.Problems); b != nil {
		c.Self = boolField(b["self"], "config.broadcast.self", &c.Problems)
		c.Ack = boolField(b["ack"], "config.broadcast.ack", &c.Problems)
		c.ReplicationReady = boolField(b["replication_ready"], "config.broadcast.replication_ready", &c.Problems)
		if r, ok := b["replay"]; ok {
			c.ReplayPresent = true
			if !isNull(r) {
				c.Replay = r
			}
			if !isNull(r) && !isObject(r) {
				c.Problems = append(c.Problems, "config.broadcast.replay: unable to parse, expected a map")
			}
		}
	}
	if p := object(cfg["presence"], "config.presence", &c.Problems); p != nil {
		c.PresenceEnabled = boolField(p["enabled"], "config.presence.enabled", &c.Problems)
		c.PresenceKey = scalarString(p["key"], &c.Problems)
	}
	return c
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func object(raw json.RawMessage, field string, problems *[]string) map[string]json.RawMessage {
	if isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		*problems = append(*problems, field+": unable to parse, expected a map")
		return nil
	}
	return m
}

// boolField accepts JSON booleans and the strings "true"/"false" in any letter case.
func boolField(raw json.RawMessage, field string, problems *[]string) bool {
	if isNull(raw) {
		return false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(s) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	*problems = append(*problems, field+": unable to parse, expected boolean")
	return false
}

func optString(raw json.RawMessage, field string, problems *[]string) *string {
	if isNull(raw) {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		*problems = append(*problems, field+": unable to parse, expected string")
		return nil
	}
	return &s
}

// scalarString renders the presence key: strings as-is, numbers and booleans as their JSON text.
func scalarString(raw json.RawMessage, problems *[]string) string {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	switch raw[0] {
	case '{', '[':
		*problems = append(*problems, "config.presence.key: unable to parse, expected string")
		return ""
	}
	return string(raw)
}

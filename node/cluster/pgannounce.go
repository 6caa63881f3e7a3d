package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Announcement ops carried in NOTIFY payloads.
const (
	opHello = "hello" // first announcement after (re)connecting: everyone answers with a beat
	opBeat  = "beat"  // periodic heartbeat
	opBye   = "bye"   // graceful shutdown: forget me now
)

// announcement is the JSON NOTIFY payload: the node's identity plus an op.
type announcement struct {
	Op string `json:"op"`
	Member
}

// maxIdentifier is Postgres' NAMEDATALEN-1: pg_notify rejects longer channel names.
const maxIdentifier = 63

// ChannelName derives the LISTEN/NOTIFY channel from the cluster name, as upstream derives it
// from the Erlang cookie: every non-word character becomes '_'. Names too long for a Postgres
// identifier are cut and suffixed with a hash so two long names stay distinct.
func ChannelName(cluster string) string {
	var b strings.Builder
	b.WriteString("realtime_cluster_")
	for _, r := range cluster {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) <= maxIdentifier {
		return name
	}
	sum := sha256.Sum256([]byte(cluster))
	suffix := "_" + hex.EncodeToString(sum[:4])
	return name[:maxIdentifier-len(suffix)] + suffix
}

// encodeAnnouncement renders the NOTIFY payload.
func encodeAnnouncement(op string, m Member) (string, error) {
	b, err := json.Marshal(announcement{Op: op, Member: m})
	if err != nil {
		return "", fmt.Errorf("encode announcement: %w", err)
	}
	return string(b), nil
}

// decodeAnnouncement parses a NOTIFY payload. Anyone who can connect to the database can NOTIFY,
// so this is untrusted input: it only ever leads to a dial, and the link handshake authenticates.
func decodeAnnouncement(payload string) (announcement, error) {
	var a announcement
	if err := json.Unmarshal([]byte(payload), &a); err != nil {
		return a, fmt.Errorf("decode announcement: %w", err)
	}
	switch {
	case a.Op != opHello && a.Op != opBeat && a.Op != opBye:
		return a, fmt.Errorf("decode announcement: unknown op %q", a.Op)
	case a.Name == "" || a.Addr == "":
		return a, fmt.Errorf("decode announcement: missing name or addr")
	}
	return a, nil
}

package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// Limits of a long-poll POST, as Phoenix.Transports.LongPoll: at most 100 messages per batch are
// read (@max_poll_batch_size; the rest is ignored), a base64 line may not exceed 10,000,000 bytes.
const (
	maxPollBatch      = 100
	maxPollBase64Line = 10_000_000
)

// pollMessage is one client message of a POST body.
type pollMessage struct {
	data   []byte
	binary bool
}

var errBadPollBody = errors.New("long-poll body: not a valid message batch")

// parsePollBody splits a long-poll POST body as Phoenix does (LongPoll.publish/4): with
// Content-Type application/x-ndjson every line ("\n" or "\r\n") is a message, text when it starts
// with "[" (or "{") and base64 of a binary frame otherwise; any other content type carries a single
// text message. Empty lines (and base64 of nothing) are skipped: Phoenix hands them to the
// serializer, which drops them as malformed.
func parsePollBody(contentType string, body []byte) ([]pollMessage, error) {
	if contentType != "application/x-ndjson" {
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, fmt.Errorf("%w: empty body", errBadPollBody)
		}
		return []pollMessage{{data: body}}, nil
	}
	var out []pollMessage
	for len(body) > 0 && len(out) < maxPollBatch {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(line) == 0:
		case line[0] == '[' || line[0] == '{':
			// Phoenix takes only "[" lines as text (its JS client sends V2 arrays); a V1 object line
			// is accepted as text too rather than failing as bad base64.
			out = append(out, pollMessage{data: line})
		case len(line) > maxPollBase64Line:
			return nil, fmt.Errorf("%w: base64 line of %d bytes", errBadPollBody, len(line))
		default:
			bin, err := base64.StdEncoding.DecodeString(string(line))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errBadPollBody, err)
			}
			if len(bin) > 0 {
				out = append(out, pollMessage{data: bin, binary: true})
			}
		}
	}
	return out, nil
}

package rtt

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// Published is the document a node pod publishes for the operator (the RTT Lease's annotation,
// v1alpha1.RTTAnnotation): its settled figure per database endpoint.
type Published map[string]PublishedFigure

// PublishedFigure is one endpoint's settled figure and its newest sample time.
type PublishedFigure struct {
	Ms float64   `json:"ms"`
	At time.Time `json:"at"`
}

// Publishable keeps the endpoints that have a settled figure.
func Publishable(figs map[string]Figure) Published {
	out := Published{}
	for ep, f := range figs {
		if f.Settled > 0 {
			out[ep] = PublishedFigure{Ms: f.Settled, At: f.At.UTC().Truncate(time.Second)}
		}
	}
	return out
}

// SameFigures reports whether a and b hold the same endpoints with the same figures (times
// ignored): settled figures change only on significant sustained changes, so any difference is
// worth a write and no difference is not.
func SameFigures(a, b Published) bool {
	return maps.EqualFunc(a, b, func(x, y PublishedFigure) bool { return x.Ms == y.Ms })
}

// Encode renders p for the annotation.
func (p Published) Encode() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// DecodePublished parses an annotation value ("" is an empty document).
func DecodePublished(s string) (Published, error) {
	p := Published{}
	if s == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("rtt annotation: %w", err)
	}
	return p, nil
}

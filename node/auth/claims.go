package auth

import (
	"encoding/json"
	"math"
)

// Claims are the decoded JWT claims. Numbers are json.Number (exact, re-marshal verbatim),
// except exp and iat which are rounded to int64 (docs/protocol.md#jwt-verification step 5).
type Claims map[string]any

// Role is the `role` claim, or "" when absent or not a string.
func (c Claims) Role() string { s, _ := c["role"].(string); return s }

// Sub is the `sub` claim, or "" when absent or not a string.
func (c Claims) Sub() string { s, _ := c["sub"].(string); return s }

// Exp is the `exp` claim in Unix seconds; ok is false when absent or not a number.
func (c Claims) Exp() (int64, bool) { return numberClaim(c["exp"]) }

// numberClaim accepts every numeric representation a Claims map can hold.
func numberClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return roundToInt(n)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		// Float64 reports ±Inf with a range error for huge values: still a number.
		f, err := n.Float64()
		if err != nil && !math.IsInf(f, 0) {
			return 0, false
		}
		return roundToInt(f)
	}
	return 0, false
}

// roundToInt rounds half away from zero (Elixir round/1), clamping to the int64 range: a
// huge exp is still a valid (far future) number.
func roundToInt(f float64) (int64, bool) {
	r := math.Round(f)
	switch {
	case math.IsNaN(r):
		return 0, false
	case r >= math.MaxInt64:
		return math.MaxInt64, true
	case r <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(r), true
}

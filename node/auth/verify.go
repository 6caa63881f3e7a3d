package auth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Verify runs steps 1-5 of docs/protocol.md#jwt-verification: clean, peek claims and header, pick the key, check the
// signature, validate exp/iat and the claim validators. Errors are always *Error. When the
// signature verified but a claim check failed, the claims are returned with the error so
// callers can log sub/iss/exp (docs/protocol.md#upstream-tests).
func (k *KeySet) Verify(token string, now time.Time) (Claims, error) {
	tok, ok := clean(token)
	if !ok {
		return nil, &Error{Kind: KindMalformed}
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, &Error{Kind: KindMalformed}
	}
	claims, err := peekClaims(parts[1])
	if err != nil {
		return nil, err
	}
	header, err := peekHeader(parts[0])
	if err != nil {
		return nil, err
	}
	key, err := k.selectKey(header)
	if err != nil {
		return nil, err
	}
	if err := key.verify(tok); err != nil {
		return nil, err
	}
	if err := k.validate(claims, now.Unix()); err != nil {
		return claims, err
	}
	return claims, nil
}

// VerifyConn is Verify plus authorize_conn's requirement that `role` and `exp` exist (step 6).
func (k *KeySet) VerifyConn(token string, now time.Time) (Claims, error) {
	claims, err := k.Verify(token, now)
	if err != nil {
		// Upstream lets a non-numeric exp through verification and then checks role/exp
		// presence, so a token with a string exp and no role reports missing claims.
		if e, ok := err.(*Error); ok && e.Kind == KindExpInvalid && !hasKeys(claims, "role") {
			return nil, &Error{Kind: KindMissingClaims}
		}
		return nil, err
	}
	if !hasKeys(claims, "role", "exp") {
		return nil, &Error{Kind: KindMissingClaims}
	}
	return claims, nil
}

func hasKeys(c Claims, names ...string) bool {
	for _, n := range names {
		if _, ok := c[n]; !ok {
			return false
		}
	}
	return true
}

// clean URL-decodes the token and drops every whitespace character (docs/protocol.md#jwt-verification input cleaning).
// Like Elixir's URI.decode, '+' stays '+'.
func clean(token string) (string, bool) {
	dec, err := url.PathUnescape(token)
	if err != nil {
		return "", false
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, dec), true
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

func peekClaims(seg string) (Claims, error) {
	raw, err := b64(seg)
	if err != nil {
		return nil, &Error{Kind: KindMalformed}
	}
	v, ok := decodeJSON(raw)
	if !ok {
		return nil, &Error{Kind: KindMalformed}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Kind: KindGeneric, Detail: "claims are not a JSON object"}
	}
	return Claims(m), nil
}

func peekHeader(seg string) (map[string]any, error) {
	raw, err := b64(seg)
	if err == nil {
		if v, ok := decodeJSON(raw); ok {
			if m, ok := v.(map[string]any); ok {
				return m, nil
			}
		}
	}
	return nil, &Error{Kind: KindGeneric, Detail: "header is not a JSON object"}
}

// validate checks exp, iat and claim validators, and rounds exp/iat in place (step 5).
func (k *KeySet) validate(c Claims, now int64) error {
	if v, ok := c["exp"]; ok {
		exp, ok := numberClaim(v)
		if !ok {
			return &Error{Kind: KindExpInvalid}
		}
		c["exp"] = exp
		if exp <= now {
			return &Error{Kind: KindExpired, ExpiredFor: now - exp}
		}
	}
	if v, ok := c["iat"]; ok {
		iat, ok := numberClaim(v)
		if !ok {
			return &Error{Kind: KindGeneric, Detail: "iat is not a number"}
		}
		c["iat"] = iat
	}
	for name, want := range k.claimValidators {
		got, ok := c[name]
		if ok && !sameJSON(got, want) {
			return &Error{Kind: KindGeneric, Detail: "claim " + name + " does not match the required value"}
		}
	}
	return nil
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

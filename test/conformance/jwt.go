package conformance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// SignHS256 mints an HS256 JWT with the given claims. It is deliberately independent of node/auth:
// the suite must not trust the code it is testing to produce its own inputs.
func SignHS256(secret []byte, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	if err != nil {
		return "", fmt.Errorf("encode JWT header: %w", err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode JWT claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// Claims returns typical client claims (role anon) valid for ttl from now; a negative ttl gives an
// expired token.
func Claims(ttl time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{
		"role": "anon",
		"iat":  now.Add(-time.Minute).Unix(),
		"exp":  now.Add(ttl).Unix(),
		"sub":  "conformance-user",
	}
}

// MustSign is SignHS256 for inputs that cannot fail (maps of plain values).
func MustSign(secret []byte, claims map[string]any) string {
	tok, err := SignHS256(secret, claims)
	if err != nil {
		panic(err)
	}
	return tok
}

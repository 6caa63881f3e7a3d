package auth

import (
	"crypto"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// SignHS256 mints an HS256 token; used by tests and by `make run` for a dev token.
func SignHS256(secret []byte, claims map[string]any) (string, error) {
	return Sign("HS256", secret, claims)
}

// Sign mints a token with header {"alg":alg,"typ":"JWT"}. key is []byte for HS*,
// *rsa.PrivateKey for RS*, *ecdsa.PrivateKey for ES*, ed25519.PrivateKey for EdDSA/Ed25519.
func Sign(alg string, key any, claims map[string]any) (string, error) {
	return SignHeader(map[string]any{"alg": alg, "typ": "JWT"}, key, claims)
}

// SignHeader mints a token with an arbitrary header (which must carry a supported "alg"),
// e.g. to add a kid. golang-jwt signs; a key that does not fit the alg is an error.
func SignHeader(header map[string]any, key any, claims map[string]any) (string, error) {
	alg, _ := header["alg"].(string)
	method := jwt.GetSigningMethod(alg)
	if _, ok := algs[alg]; !ok || method == nil {
		return "", fmt.Errorf("sign: unsupported alg %q", alg)
	}
	t := &jwt.Token{Header: header, Claims: jwt.MapClaims(claims), Method: method}
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", alg, err)
	}
	return s, nil
}

// PublicJWK returns the public JWK (as a JSON object) of an RSA, ECDSA or Ed25519 key, or
// an oct JWK for a []byte secret; for tests and dev tooling. go-jose encodes it.
func PublicJWK(kid string, key any) (map[string]any, error) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	raw, err := jose.JSONWebKey{Key: key, KeyID: kid}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	return m, nil
}

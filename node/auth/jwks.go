package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// jwk is one parsed entry of a JSON Web Key Set. pub holds the usable key; err is set when the
// entry matched a supported kty but its material is unusable (reported only when selected,
// so one bad key does not take down a whole tenant).
type jwk struct {
	kty, kid, crv string
	hasKid        bool // upstream compares kid with ==, so a non-string kid never matches
	pub           any  // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, []byte (oct)
	err           error
}

// KeySet holds a tenant's verification keys, parsed once.
type KeySet struct {
	secret []byte
	// hasKeys mirrors upstream's `%{"keys" => keys}` match: JWKS rows of table 1.4 apply only then.
	hasKeys bool
	keys    []jwk
	// claimValidators are required claim values (JWT_CLAIM_VALIDATORS), checked when present.
	claimValidators map[string]any
}

// NewKeySet builds a KeySet from the HS* secret (may be empty) and a raw JWKS (may be nil).
// It fails only when the JWKS is not a JSON object or `keys` is not an array.
func NewKeySet(secret []byte, jwks json.RawMessage) (*KeySet, error) {
	ks := &KeySet{secret: append([]byte(nil), secret...)}
	if len(strings.TrimSpace(string(jwks))) == 0 || string(jwks) == "null" {
		return ks, nil
	}
	var set map[string]json.RawMessage
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("jwks: not a JSON object: %w", err)
	}
	raw, ok := set["keys"]
	if !ok {
		return ks, nil
	}
	var entries []map[string]any
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("jwks: keys must be an array of objects: %w", err)
	}
	ks.hasKeys = true
	for _, e := range entries {
		ks.keys = append(ks.keys, parseJWK(e))
	}
	return ks, nil
}

// WithClaimValidators returns a copy of k that also requires claim == value for every entry
// whose claim is present in the token (env JWT_CLAIM_VALIDATORS). Values compare as JSON.
func (k *KeySet) WithClaimValidators(v map[string]any) *KeySet {
	c := *k
	c.claimValidators = v
	return &c
}

// Problems lists JWKS entries that cannot be used, for operators' logs.
func (k *KeySet) Problems() []string {
	var out []string
	for i, j := range k.keys {
		if j.err != nil {
			out = append(out, fmt.Sprintf("keys[%d] (kid %q): %v", i, j.kid, j.err))
		}
	}
	return out
}

func parseJWK(e map[string]any) jwk {
	str := func(name string) string { s, _ := e[name].(string); return s }
	j := jwk{kty: str("kty"), kid: str("kid"), crv: str("crv")}
	_, j.hasKid = e["kid"].(string)
	switch j.kty {
	case "RSA":
		j.pub, j.err = parseRSA(str("n"), str("e"))
	case "EC":
		j.pub, j.err = parseEC(j.crv, str("x"), str("y"))
	case "OKP":
		j.pub, j.err = parseOKP(j.crv, str("x"))
	case "oct":
		// Only a string k counts (table 1.4); anything else means "no such JWK".
		if k, ok := e["k"].(string); ok {
			j.pub, j.err = b64(k)
		} else {
			j.kty = "oct-without-k"
		}
	}
	return j
}

// b64 decodes base64url, tolerating padding some JWK producers add.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func parseRSA(n, e string) (any, error) {
	nb, err := b64(n)
	if err != nil || len(nb) == 0 {
		return nil, errors.New("invalid RSA modulus n")
	}
	eb, err := b64(e)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("invalid RSA exponent e")
	}
	exp := int(new(big.Int).SetBytes(eb).Int64())
	if exp < 3 || exp%2 == 0 {
		return nil, errors.New("invalid RSA exponent e")
	}
	mod := new(big.Int).SetBytes(nb)
	if mod.BitLen() < 1024 {
		return nil, errors.New("RSA modulus shorter than 1024 bits")
	}
	return &rsa.PublicKey{N: mod, E: exp}, nil
}

func curveFor(crv string) (elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32
	case "P-384":
		return elliptic.P384(), 48
	case "P-521":
		return elliptic.P521(), 66
	}
	return nil, 0
}

func parseEC(crv, x, y string) (any, error) {
	curve, size := curveFor(crv)
	if curve == nil {
		return nil, fmt.Errorf("unsupported EC curve %q", crv)
	}
	xb, errX := b64(x)
	yb, errY := b64(y)
	if errX != nil || errY != nil || len(xb) != size || len(yb) != size {
		return nil, errors.New("invalid EC coordinates")
	}
	point := append(append([]byte{4}, xb...), yb...)
	// ParseUncompressedPublicKey checks the point is on the curve.
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("invalid EC point: %w", err)
	}
	return pub, nil
}

func parseOKP(crv, x string) (any, error) {
	switch crv {
	case "Ed25519":
		xb, err := b64(x)
		if err != nil || len(xb) != ed25519.PublicKeySize {
			return nil, errors.New("invalid Ed25519 public key x")
		}
		return ed25519.PublicKey(xb), nil
	case "Ed448":
		return nil, errors.New("Ed448 is not supported by this implementation")
	}
	return nil, fmt.Errorf("unsupported OKP curve %q", crv)
}

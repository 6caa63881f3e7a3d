package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// jwk is one entry of a JSON Web Key Set. kty, kid and crv are read from the raw JSON because
// upstream selects keys on those raw values (jwt_verification.ex generate_signer); the key
// material is parsed by go-jose. pub holds the usable public key; err is set when the entry has
// a supported kty but go-jose refuses its material (reported only when selected, so one bad key
// does not take down a whole tenant).
type jwk struct {
	kty, kid, crv string
	hasKid        bool // upstream compares kid with ==, so a non-string kid never matches
	pub           any  // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, []byte (oct)
	err           error
}

// KeySet holds a tenant's verification keys, parsed once.
type KeySet struct {
	secret []byte
	// hasKeys mirrors upstream's `%{"keys" => keys}` match: the JWKS rows of the key-selection
	// table apply only then.
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
	case "RSA", "EC", "OKP":
		if j.err = materialProblem(j.kty, j.crv, str); j.err == nil {
			j.pub, j.err = publicKeyOf(e)
		}
	case "oct":
		// Only a string k counts (the HS rows of the selection table); anything else means
		// "no such JWK", so the token falls back to the tenant secret.
		if _, ok := e["k"].(string); !ok {
			j.kty = "oct-without-k"
			break
		}
		j.pub, j.err = publicKeyOf(e)
	}
	return j
}

// materialProblem names what an operator must fix in a JWK before go-jose is asked (whose
// messages are less specific), in the texts Problems() has always used.
func materialProblem(kty, crv string, str func(string) string) error {
	present := func(name string) bool { b, err := b64(str(name)); return err == nil && len(b) > 0 }
	switch kty {
	case "RSA":
		if !present("n") {
			return errors.New("invalid RSA modulus n")
		}
		if !present("e") {
			return errors.New("invalid RSA exponent e")
		}
	case "EC":
		if crv != "P-256" && crv != "P-384" && crv != "P-521" {
			return fmt.Errorf("unsupported EC curve %q", crv)
		}
		if !present("x") || !present("y") {
			return errors.New("invalid EC coordinates")
		}
	case "OKP":
		switch crv {
		case "Ed25519":
			if !present("x") {
				return errors.New("invalid Ed25519 public key x")
			}
		case "Ed448":
			return errors.New("Ed448 is not supported by this implementation")
		default:
			return fmt.Errorf("unsupported OKP curve %q", crv)
		}
	}
	return nil
}

// keyMaterial are the base64url members of RSA, EC, OKP and oct JWKs (RFC 7518 section 6).
var keyMaterial = map[string]bool{"n": true, "e": true, "x": true, "y": true, "k": true, "d": true,
	"p": true, "q": true, "dp": true, "dq": true, "qi": true}

// publicKeyOf parses one JWK with go-jose (which checks coordinate sizes, that EC points lie on
// their curve, RSA exponents, Ed25519 key sizes) and returns its public half.
func publicKeyOf(e map[string]any) (any, error) {
	// go-jose decodes base64url strictly; some JWK producers pad. Upstream's JOSE accepts both.
	norm := make(map[string]any, len(e))
	for name, v := range e {
		if s, ok := v.(string); ok && keyMaterial[name] {
			v = strings.TrimRight(s, "=")
		}
		norm[name] = v
	}
	raw, err := json.Marshal(norm)
	if err != nil {
		return nil, fmt.Errorf("re-encode JWK: %w", err)
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("go-jose: %w", err)
	}
	switch k := key.Key.(type) {
	case []byte:
		return k, nil
	case *rsa.PublicKey:
		return checkRSA(k)
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return k, nil
	case crypto.Signer: // a JWKS that (wrongly) carries private keys: use the public half
		if pub, ok := k.Public().(*rsa.PublicKey); ok {
			return checkRSA(pub)
		}
		return k.Public(), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key.Key)
}

// checkRSA refuses moduli under 1024 bits at load time, so Problems() names the key instead of
// every token failing with a signature error (crypto/rsa refuses them at verify time too).
func checkRSA(k *rsa.PublicKey) (any, error) {
	if k.N.BitLen() < 1024 {
		return nil, errors.New("RSA modulus shorter than 1024 bits")
	}
	return k, nil
}

// b64 decodes base64url, tolerating padding, for peeking at the header and claims segments.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

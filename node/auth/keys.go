package auth

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// algFamily groups the header algs of the key-selection table (docs/protocol.md#jwt-verification).
type algFamily int

const (
	famHS algFamily = iota + 1
	famRS
	famES
	famEd
)

// algs are the header algs upstream accepts (jwt_verification.ex @hs_algorithms ...
// @ed_algorithms). Anything else, `none` included, has no signer.
var algs = map[string]algFamily{
	"HS256": famHS, "HS384": famHS, "HS512": famHS,
	"RS256": famRS, "RS384": famRS, "RS512": famRS,
	"ES256": famES, "ES384": famES, "ES512": famES,
	"Ed25519": famEd, "Ed448": famEd, "EdDSA": famEd,
}

// ed25519Alias is golang-jwt's EdDSA method under the name JOSE (and so upstream) also accepts
// for Ed25519 keys. golang-jwt has no Ed448; a token naming it fails as a signature error.
type ed25519Alias struct{ *jwt.SigningMethodEd25519 }

func (ed25519Alias) Alg() string { return "Ed25519" }

func init() {
	jwt.RegisterSigningMethod("Ed25519", func() jwt.SigningMethod { return ed25519Alias{jwt.SigningMethodEdDSA} })
}

var esCurve = map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}

// verifier is the key chosen for one token.
type verifier struct {
	alg    string
	key    any
	parser *jwt.Parser
}

// selectKey implements the key-selection table of docs/protocol.md#jwt-verification row by row.
func (k *KeySet) selectKey(header map[string]any) (*verifier, error) {
	alg, _ := header["alg"].(string)
	kid, hasKid := header["kid"].(string)
	fam, known := algs[alg]
	if !known {
		return nil, &Error{Kind: KindSigner}
	}
	useJWKS := hasKid && k.hasKeys
	switch {
	case fam == famHS && useJWKS:
		if j := k.find("oct", kid, nil); j != nil {
			return newVerifier(alg, j)
		}
		fallthrough // no oct JWK for the kid: the tenant secret (Supabase Auth's usual case)
	case fam == famHS:
		if len(k.secret) == 0 {
			return nil, &Error{Kind: KindSigner}
		}
		return &verifier{alg: alg, key: k.secret, parser: parserFor(alg)}, nil
	case !useJWKS:
		return nil, &Error{Kind: KindSigner}
	}
	var j *jwk
	switch fam {
	case famRS:
		j = k.find("RSA", kid, nil)
	case famES:
		j = k.find("EC", kid, nil)
	case famEd:
		j = k.find("OKP", kid, func(j *jwk) bool { return j.crv == "Ed25519" || j.crv == "Ed448" })
	}
	if j == nil {
		return nil, &Error{Kind: KindSigner, Kid: kid}
	}
	return newVerifier(alg, j)
}

// find returns the first JWK with the kty and kid (upstream Enum.find), optionally filtered.
func (k *KeySet) find(kty, kid string, ok func(*jwk) bool) *jwk {
	for i := range k.keys {
		j := &k.keys[i]
		if j.kty == kty && j.hasKid && j.kid == kid && (ok == nil || ok(j)) {
			return j
		}
	}
	return nil
}

func newVerifier(alg string, j *jwk) (*verifier, error) {
	if j.err != nil {
		return nil, &Error{Kind: KindGeneric, Detail: "unusable JWK " + j.kid + ": " + j.err.Error(), cause: j.err}
	}
	return &verifier{alg: alg, key: j.pub, parser: parserFor(alg)}, nil
}

// parsers holds one golang-jwt parser per alg, each accepting only that alg: the header names
// the alg, selectKey chose the key for it, and the library refuses any other method and any
// key whose type does not fit the method (HS256 with an RSA key, ES256 with an Ed25519 key).
// Claims are validated by validate(), which reproduces upstream's exp/iat rules.
var parsers = func() map[string]*jwt.Parser {
	m := make(map[string]*jwt.Parser, len(algs))
	for alg := range algs {
		m[alg] = jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation(),
			jwt.WithPaddingAllowed(), jwt.WithJSONNumber())
	}
	return m
}()

func parserFor(alg string) *jwt.Parser { return parsers[alg] }

// verify checks the token's signature with golang-jwt. Header and claims were already decoded,
// so any failure here, including a key that does not fit the alg, is a signature error.
func (v *verifier) verify(token string) error {
	if ec, ok := v.key.(*ecdsa.PublicKey); ok && ec.Curve.Params().Name != esCurve[v.alg] {
		// RFC 7518 3.4: the curve is fixed by the alg; golang-jwt checks only the signature size.
		return &Error{Kind: KindSignature, cause: fmt.Errorf("%s with a %s key", v.alg, ec.Curve.Params().Name)}
	}
	_, err := v.parser.Parse(token, func(*jwt.Token) (any, error) { return v.key, nil })
	if err != nil {
		return &Error{Kind: KindSignature, cause: err}
	}
	return nil
}

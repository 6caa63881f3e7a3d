package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	_ "crypto/sha256" // register SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // register SHA-384/512
	"math/big"
)

// algFamily groups the header algs of table 1.4.
type algFamily int

const (
	famNone algFamily = iota
	famHS
	famRS
	famES
	famEd
)

var algs = map[string]struct {
	fam  algFamily
	hash crypto.Hash
}{
	"HS256": {famHS, crypto.SHA256}, "HS384": {famHS, crypto.SHA384}, "HS512": {famHS, crypto.SHA512},
	"RS256": {famRS, crypto.SHA256}, "RS384": {famRS, crypto.SHA384}, "RS512": {famRS, crypto.SHA512},
	"ES256": {famES, crypto.SHA256}, "ES384": {famES, crypto.SHA384}, "ES512": {famES, crypto.SHA512},
	"Ed25519": {famEd, 0}, "Ed448": {famEd, 0}, "EdDSA": {famEd, 0},
}

// verifier is the key chosen for one token.
type verifier struct {
	alg  string
	fam  algFamily
	hash crypto.Hash
	key  any
}

// selectKey implements the key-selection table of spec 1.4 row by row.
func (k *KeySet) selectKey(header map[string]any) (*verifier, error) {
	alg, _ := header["alg"].(string)
	kid, hasKid := header["kid"].(string)
	a, known := algs[alg]
	if !known {
		return nil, &Error{Kind: KindSigner}
	}
	v := &verifier{alg: alg, fam: a.fam, hash: a.hash}
	useJWKS := hasKid && k.hasKeys
	switch {
	case a.fam == famHS && useJWKS:
		if j := k.find("oct", kid, nil); j != nil {
			return v.with(j)
		}
		fallthrough // no oct JWK for the kid: the tenant secret (Supabase Auth's usual case)
	case a.fam == famHS:
		if len(k.secret) == 0 {
			return nil, &Error{Kind: KindSigner}
		}
		v.key = k.secret
		return v, nil
	case !useJWKS:
		return nil, &Error{Kind: KindSigner}
	}
	var j *jwk
	switch a.fam {
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
	return v.with(j)
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

func (v *verifier) with(j *jwk) (*verifier, error) {
	if j.err != nil {
		return nil, &Error{Kind: KindGeneric, Detail: "unusable JWK " + j.kid + ": " + j.err.Error()}
	}
	v.key = j.pub
	return v, nil
}

// verify checks the signature of signingInput; any mismatch, including a key that does not
// fit the alg, is a signature error.
func (v *verifier) verify(signingInput, sigSeg string) error {
	sig, err := b64(sigSeg)
	if err != nil || !v.check([]byte(signingInput), sig) {
		return &Error{Kind: KindSignature}
	}
	return nil
}

func (v *verifier) check(msg, sig []byte) bool {
	switch v.fam {
	case famHS:
		secret, ok := v.key.([]byte)
		if !ok {
			return false
		}
		mac := hmac.New(v.hash.New, secret)
		mac.Write(msg)
		return hmac.Equal(mac.Sum(nil), sig)
	case famRS:
		pub, ok := v.key.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(pub, v.hash, digest(v.hash, msg), sig) == nil
	case famES:
		return checkES(v, msg, sig)
	case famEd:
		pub, ok := v.key.(ed25519.PublicKey)
		return ok && ed25519.Verify(pub, msg, sig)
	}
	return false
}

var esCurve = map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}

// checkES verifies a JWS ECDSA signature: fixed-size r||s, curve matching the alg (RFC 7518 3.4).
func checkES(v *verifier, msg, sig []byte) bool {
	pub, ok := v.key.(*ecdsa.PublicKey)
	if !ok || pub.Curve.Params().Name != esCurve[v.alg] {
		return false
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return false
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(pub, digest(v.hash, msg), r, s)
}

func digest(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}

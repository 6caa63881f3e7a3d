package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"
)

// testKeys are real keys generated once per test binary (RSA generation is slow).
type testKeys struct {
	secret, octSecret []byte
	rsa, rsaOther     *rsa.PrivateKey
	ec256, ec384      *ecdsa.PrivateKey
	ec521             *ecdsa.PrivateKey
	ed                ed25519.PrivateKey
	jwks              json.RawMessage
}

var (
	keysOnce sync.Once
	keysVal  testKeys
)

func keys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() { keysVal = genKeys() })
	return &keysVal
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func genKeys() testKeys {
	k := testKeys{
		secret:    []byte("tenant-secret-at-least-32-characters-long!"),
		octSecret: []byte("oct-jwk-secret-which-is-different-from-tenant"),
		rsa:       must(rsa.GenerateKey(rand.Reader, 2048)),
		rsaOther:  must(rsa.GenerateKey(rand.Reader, 2048)),
		ec256:     must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		ec384:     must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		ec521:     must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)),
	}
	_, k.ed = must2(ed25519.GenerateKey(rand.Reader))
	set := []any{
		must(PublicJWK("rsa1", k.rsa)),
		must(PublicJWK("ec256", k.ec256)),
		must(PublicJWK("ec384", k.ec384)),
		must(PublicJWK("ec521", k.ec521)),
		must(PublicJWK("ed1", k.ed)),
		must(PublicJWK("oct1", k.octSecret)),
		map[string]any{"kty": "oct", "kid": "octnok"},
		map[string]any{"kty": "OKP", "kid": "x448", "crv": "X448", "x": "AAAA"},
		map[string]any{"kty": "RSA", "kid": "badrsa", "n": "!!", "e": "AQAB"},
	}
	k.jwks = must(json.Marshal(map[string]any{"keys": set}))
	return k
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

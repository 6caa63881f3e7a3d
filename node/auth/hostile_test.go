package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// hostileCase is one token an attacker could send. Every case but those marked ok must fail
// with the given kind; an ok case must verify with exactly the claims check asserts.
type hostileCase struct {
	name  string
	ks    *KeySet
	token string
	kind  Kind
	kid   string
	ok    bool
	check func(t *testing.T, c Claims)
}

// TestHostileTokens: alg confusion, `none`, wrong kid, oversized and nested JSON, unicode tricks.
func TestHostileTokens(t *testing.T) {
	k := keys(t)
	ks := must(NewKeySet(k.secret, k.jwks))
	jwksOnly := must(NewKeySet(nil, k.jwks))
	c := goodClaims()
	attackerRSA := must(rsa.GenerateKey(rand.Reader, 2048))
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))})
	valid := tok(t, hdr("HS256", ""), k.secret, c)
	vp := strings.Split(valid, ".")
	other := strings.Split(tok(t, hdr("HS256", ""), k.secret, map[string]any{"role": "service_role", "exp": c["exp"]}), ".")

	cases := []hostileCase{
		// alg none and its spellings: no signer, whatever the signature segment holds.
		{name: "alg none, empty signature", ks: ks, token: b64url([]byte(`{"alg":"none"}`)) + "." + b64url(must(jsonMarshal(c))) + ".", kind: KindSigner},
		{name: "alg none, junk signature", ks: ks, token: unsigned(`{"alg":"none","typ":"JWT"}`, `{"role":"service_role","exp":9999999999}`), kind: KindSigner},
		{name: "alg None", ks: ks, token: unsigned(`{"alg":"None"}`, `{"role":"a","exp":9999999999}`), kind: KindSigner},
		{name: "alg NONE with kid", ks: ks, token: unsigned(`{"alg":"NONE","kid":"rsa1"}`, `{"role":"a","exp":9999999999}`), kind: KindSigner},
		// HS256 signed with the tenant's public RSA key as HMAC secret (the classic alg confusion).
		{name: "HS256 keyed with RSA public PEM, kid of the RSA JWK", ks: ks, token: tok(t, hdr("HS256", "rsa1"), rsaPubPEM, c), kind: KindSignature},
		{name: "HS256 keyed with RSA public PEM, no kid", ks: ks, token: tok(t, hdr("HS256", ""), rsaPubPEM, c), kind: KindSignature},
		{name: "HS256 keyed with RSA modulus bytes", ks: ks, token: tok(t, hdr("HS256", "rsa1"), k.rsa.N.Bytes(), c), kind: KindSignature},
		{name: "HS256 keyed with RSA public PEM, JWKS-only tenant", ks: jwksOnly, token: tok(t, hdr("HS256", "rsa1"), rsaPubPEM, c), kind: KindSigner},
		{name: "HS256 keyed with RSA public PEM, kid of the oct JWK", ks: ks, token: tok(t, hdr("HS256", "oct1"), rsaPubPEM, c), kind: KindSignature},
		// A kid naming a key of another type never lends that key to the alg.
		{name: "RS256 with the kid of the oct JWK", ks: ks, token: tok(t, hdr("RS256", "oct1"), k.rsa, c), kind: KindSigner, kid: "oct1"},
		{name: "ES256 with the kid of the RSA JWK", ks: ks, token: tok(t, hdr("ES256", "rsa1"), k.ec256, c), kind: KindSigner, kid: "rsa1"},
		{name: "EdDSA with the kid of an EC JWK", ks: ks, token: tok(t, hdr("EdDSA", "ec256"), k.ed, c), kind: KindSigner, kid: "ec256"},
		{name: "PS256 signed with the RSA key", ks: ks, token: pss(t, k.rsa, "rsa1", c), kind: KindSigner},
		{name: "Ed448 alg on an Ed25519 JWK", ks: ks, token: ed448Header(k.ed, c), kind: KindSignature},
		{name: "ES256 signature in ASN.1 DER form", ks: ks, token: derES256(t, k.ec256, c), kind: KindSignature},
		// Wrong kid: unknown, homoglyph, hostile characters (quoted in the message, never raw).
		{name: "unknown kid", ks: ks, token: tok(t, hdr("RS256", "rsa2"), k.rsa, c), kind: KindSigner, kid: "rsa2"},
		{name: "homoglyph kid (Cyrillic s)", ks: ks, token: tok(t, hdr("RS256", "r\u0455a1"), k.rsa, c), kind: KindSigner, kid: "r\u0455a1"},
		{name: "kid with quote and newline", ks: ks, token: tok(t, hdr("RS256", "a\"b\n"), k.rsa, c), kind: KindSigner, kid: "a\"b\n"},
		{name: "kid is an array", ks: ks, token: tok(t, map[string]any{"alg": "RS256", "kid": []any{"rsa1"}}, k.rsa, c), kind: KindSigner},
		{name: "kid is an object", ks: ks, token: tok(t, map[string]any{"alg": "RS256", "kid": map[string]any{"kid": "rsa1"}}, k.rsa, c), kind: KindSigner},
		// Keys offered by the token itself are never used.
		{name: "embedded jwk, no kid", ks: ks, token: tok(t, map[string]any{"alg": "RS256", "jwk": must(PublicJWK("evil", attackerRSA))}, attackerRSA, c), kind: KindSigner},
		{name: "embedded jwk with the tenant kid", ks: ks, token: tok(t, map[string]any{"alg": "RS256", "kid": "rsa1", "jwk": must(PublicJWK("rsa1", attackerRSA))}, attackerRSA, c), kind: KindSignature},
		{name: "jku to an attacker's JWKS", ks: ks, token: tok(t, map[string]any{"alg": "RS256", "kid": "rsa1", "jku": "https://evil.example/jwks.json"}, attackerRSA, c), kind: KindSignature},
		// Signature segment games.
		{name: "signature stripped", ks: ks, token: vp[0] + "." + vp[1] + ".", kind: KindSignature},
		{name: "signature of another token", ks: ks, token: vp[0] + "." + other[1] + "." + vp[2], kind: KindSignature},
		{name: "signature not base64", ks: ks, token: vp[0] + "." + vp[1] + ".***", kind: KindSignature},
		// Oversized: no silent truncation either way.
		{name: "1 MiB claim, attacker key", ks: ks, token: tok(t, hdr("HS256", ""), []byte("attacker"), bigClaims(c)), kind: KindSignature},
		{name: "1 MiB claim, tenant key", ks: ks, token: tok(t, hdr("HS256", ""), k.secret, bigClaims(c)), ok: true,
			check: func(t *testing.T, got Claims) {
				if s, _ := got["pad"].(string); len(s) != 1<<20 {
					t.Fatalf("pad has %d bytes", len(s))
				}
			}},
		{name: "1 MiB header", ks: ks, token: tok(t, map[string]any{"alg": "HS256", "pad": strings.Repeat("h", 1<<20)}, []byte("attacker"), c), kind: KindSignature},
		// Nested JSON: beyond the decoder's depth limit, and values of the wrong shape.
		{name: "claims nested 20000 deep", ks: ks, token: unsignedHS(k.secret, `{"role":"a","x":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`), kind: KindMalformed},
		{name: "header nested 20000 deep", ks: ks, token: unsigned(`{"alg":"HS256","x":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`, `{}`), kind: KindGeneric},
		{name: "alg is an object", ks: ks, token: unsigned(`{"alg":{"alg":"HS256"}}`, `{}`), kind: KindSigner},
		{name: "role is an object", ks: ks, token: tok(t, hdr("HS256", ""), k.secret, map[string]any{"role": map[string]any{"role": "service_role"}, "exp": c["exp"]}), ok: true,
			check: func(t *testing.T, got Claims) {
				if got.Role() != "" {
					t.Fatalf("Role() = %q for a non-string role", got.Role())
				}
			}},
		{name: "exp is an object", ks: ks, token: tok(t, hdr("HS256", ""), k.secret, map[string]any{"role": "a", "exp": map[string]any{"exp": 1}}), kind: KindExpInvalid},
		{name: "exp is an array", ks: ks, token: tok(t, hdr("HS256", ""), k.secret, map[string]any{"role": "a", "exp": []any{9999999999}}), kind: KindExpInvalid},
		// Duplicate keys: the peek and the library must read the same (last) value.
		{name: "duplicate alg, none last", ks: ks, token: rawHS(k.secret, `{"alg":"HS256","alg":"none"}`, `{"role":"a","exp":9999999999}`), kind: KindSigner},
		{name: "duplicate alg, HS256 last", ks: ks, token: rawHS(k.secret, `{"alg":"none","alg":"HS256"}`, `{"role":"a","exp":9999999999}`), ok: true},
		{name: "duplicate role", ks: ks, token: rawHS(k.secret, `{"alg":"HS256"}`, `{"role":"anon","role":"service_role","exp":9999999999}`), ok: true,
			check: func(t *testing.T, got Claims) {
				if got.Role() != "service_role" {
					t.Fatalf("Role() = %q, want the last value as upstream's Jason decodes it", got.Role())
				}
			}},
		// Unicode tricks in alg, and characters the cleaning must not (or must) drop.
		{name: "fullwidth alg", ks: ks, token: unsigned(`{"alg":"ＨＳ256"}`, `{}`), kind: KindSigner},
		{name: "alg with NUL", ks: ks, token: unsigned(`{"alg":"HS256\u0000"}`, `{}`), kind: KindSigner},
		{name: "lowercase alg", ks: ks, token: rawHS(k.secret, `{"alg":"hs256"}`, `{"role":"a","exp":9999999999}`), kind: KindSigner},
		{name: "alg with trailing space", ks: ks, token: rawHS(k.secret, `{"alg":"HS256 "}`, `{"role":"a","exp":9999999999}`), kind: KindSigner},
		{name: "zero-width space in the claims", ks: ks, token: vp[0] + "." + vp[1][:5] + "\u200b" + vp[1][5:] + "." + vp[2], kind: KindMalformed},
		{name: "byte order mark in front", ks: ks, token: "\ufeff" + valid, kind: KindGeneric},
		{name: "line separator inside (whitespace, dropped)", ks: ks, token: vp[0] + ".\u2028" + vp[1] + "." + vp[2], ok: true},
		{name: "percent-encoded NUL", ks: ks, token: vp[0] + "." + vp[1] + "%00." + vp[2], kind: KindMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runHostile(t, tc) })
	}
}

func runHostile(t *testing.T, tc hostileCase) {
	t.Helper()
	claims, err := tc.ks.VerifyConn(tc.token, testNow)
	if tc.ok {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if tc.check != nil {
			tc.check(t, claims)
		}
		return
	}
	kind, kid, ok := kindOf(err)
	if !ok || kind != tc.kind || kid != tc.kid {
		t.Fatalf("err = %v (kind %v kid %q), want kind %v kid %q", err, kind, kid, tc.kind, tc.kid)
	}
	e := err.(*Error)
	if _, msg := e.ConnectStatus(); strings.ContainsAny(msg, "\n\x00") {
		t.Fatalf("client message carries raw control characters: %q", msg)
	}
}

func bigClaims(c map[string]any) map[string]any {
	out := map[string]any{"pad": strings.Repeat("p", 1<<20)}
	for k, v := range c {
		out[k] = v
	}
	return out
}

// rawHS signs raw header and claims JSON with HS256 (duplicate keys json.Marshal cannot write).
func rawHS(secret []byte, header, claims string) string {
	input := b64url([]byte(header)) + "." + b64url([]byte(claims))
	return input + "." + b64url(hmacSum(secret, input))
}

// ed448Header signs with an Ed25519 key under the header alg Ed448: a valid Ed25519 signature
// must not pass for another algorithm's name.
func ed448Header(key ed25519.PrivateKey, claims map[string]any) string {
	input := b64url([]byte(`{"alg":"Ed448","kid":"ed1"}`)) + "." + b64url(must(jsonMarshal(claims)))
	return input + "." + b64url(ed25519.Sign(key, []byte(input)))
}

// pss signs with RSASSA-PSS (PS256), an alg upstream does not accept.
func pss(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	input := b64url([]byte(`{"alg":"PS256","kid":"`+kid+`"}`)) + "." + b64url(must(jsonMarshal(claims)))
	d := sha256.Sum256([]byte(input))
	return input + "." + b64url(must(rsa.SignPSS(rand.Reader, key, 0x05, d[:], nil)))
}

// derES256 signs ES256 but writes the signature as ASN.1 DER, not the r||s form JWS requires.
func derES256(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	input := b64url([]byte(`{"alg":"ES256","kid":"ec256"}`)) + "." + b64url(must(jsonMarshal(claims)))
	d := sha256.Sum256([]byte(input))
	return input + "." + b64url(must(ecdsa.SignASN1(rand.Reader, key, d[:])))
}

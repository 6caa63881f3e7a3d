package auth

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Unix(1_700_000_000, 0)

func goodClaims() map[string]any {
	return map[string]any{"role": "authenticated", "sub": "user-1", "exp": testNow.Unix() + 3600}
}

func tok(t testing.TB, header map[string]any, key any, claims map[string]any) string {
	t.Helper()
	s, err := SignHeader(header, key, claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hdr(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

func kindOf(err error) (Kind, string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e.Kid, true
	}
	return 0, "", false
}

// TestKeySelection covers every row of the key-selection table of docs/protocol.md#jwt-verification.
func TestKeySelection(t *testing.T) {
	k := keys(t)
	withJWKS := must(NewKeySet(k.secret, k.jwks))
	secretOnly := must(NewKeySet(k.secret, nil))
	noSecret := must(NewKeySet(nil, nil))
	c := goodClaims()
	cases := []struct {
		name    string
		ks      *KeySet
		token   string
		wantErr bool
		kind    Kind
		kid     string
	}{
		{"HS256 secret", secretOnly, tok(t, hdr("HS256", ""), k.secret, c), false, 0, ""},
		{"HS384 secret", secretOnly, tok(t, hdr("HS384", ""), k.secret, c), false, 0, ""},
		{"HS512 secret", withJWKS, tok(t, hdr("HS512", ""), k.secret, c), false, 0, ""},
		{"HS256 no typ", secretOnly, tok(t, map[string]any{"alg": "HS256"}, k.secret, c), false, 0, ""},
		{"HS256 kid oct JWK", withJWKS, tok(t, hdr("HS256", "oct1"), k.octSecret, c), false, 0, ""},
		{"HS256 kid oct JWK wrong key", withJWKS, tok(t, hdr("HS256", "oct1"), k.secret, c), true, KindSignature, ""},
		{"HS256 kid no JWK falls back to secret", withJWKS, tok(t, hdr("HS256", "nope"), k.secret, c), false, 0, ""},
		{"HS256 kid oct without k falls back", withJWKS, tok(t, hdr("HS256", "octnok"), k.secret, c), false, 0, ""},
		{"HS256 kid without jwks uses secret", secretOnly, tok(t, hdr("HS256", "oct1"), k.secret, c), false, 0, ""},
		{"HS256 no secret", noSecret, tok(t, hdr("HS256", ""), k.secret, c), true, KindSigner, ""},
		{"HS256 wrong secret", secretOnly, tok(t, hdr("HS256", ""), k.octSecret, c), true, KindSignature, ""},
		{"RS256 kid", withJWKS, tok(t, hdr("RS256", "rsa1"), k.rsa, c), false, 0, ""},
		{"RS384 kid", withJWKS, tok(t, hdr("RS384", "rsa1"), k.rsa, c), false, 0, ""},
		{"RS512 kid", withJWKS, tok(t, hdr("RS512", "rsa1"), k.rsa, c), false, 0, ""},
		{"RS256 other key", withJWKS, tok(t, hdr("RS256", "rsa1"), k.rsaOther, c), true, KindSignature, ""},
		{"RS256 unknown kid", withJWKS, tok(t, hdr("RS256", "missing"), k.rsa, c), true, KindSigner, "missing"},
		{"RS256 kid of EC key", withJWKS, tok(t, hdr("RS256", "ec256"), k.rsa, c), true, KindSigner, "ec256"},
		{"RS256 no kid", withJWKS, tok(t, hdr("RS256", ""), k.rsa, c), true, KindSigner, ""},
		{"RS256 no jwks", secretOnly, tok(t, hdr("RS256", "rsa1"), k.rsa, c), true, KindSigner, ""},
		{"RS256 unusable JWK", withJWKS, tok(t, hdr("RS256", "badrsa"), k.rsa, c), true, KindGeneric, ""},
		{"ES256 kid", withJWKS, tok(t, hdr("ES256", "ec256"), k.ec256, c), false, 0, ""},
		{"ES384 kid", withJWKS, tok(t, hdr("ES384", "ec384"), k.ec384, c), false, 0, ""},
		{"ES512 kid", withJWKS, tok(t, hdr("ES512", "ec521"), k.ec521, c), false, 0, ""},
		{"ES256 other key", withJWKS, tok(t, hdr("ES256", "ec256"), must(ecdsaKey()), c), true, KindSignature, ""},
		{"ES256 unknown kid", withJWKS, tok(t, hdr("ES256", "nope"), k.ec256, c), true, KindSigner, "nope"},
		{"ES256 no jwks", secretOnly, tok(t, hdr("ES256", "ec256"), k.ec256, c), true, KindSigner, ""},
		{"EdDSA kid", withJWKS, tok(t, hdr("EdDSA", "ed1"), k.ed, c), false, 0, ""},
		{"Ed25519 kid", withJWKS, tok(t, hdr("Ed25519", "ed1"), k.ed, c), false, 0, ""},
		{"EdDSA OKP wrong crv", withJWKS, tok(t, hdr("EdDSA", "x448"), k.ed, c), true, KindSigner, "x448"},
		{"EdDSA unknown kid", withJWKS, tok(t, hdr("EdDSA", "zz"), k.ed, c), true, KindSigner, "zz"},
		{"EdDSA no kid", withJWKS, tok(t, hdr("EdDSA", ""), k.ed, c), true, KindSigner, ""},
		{"alg none", withJWKS, unsigned(`{"alg":"none","typ":"JWT"}`, `{"role":"x"}`), true, KindSigner, ""},
		{"alg PS256", withJWKS, unsigned(`{"alg":"PS256","kid":"rsa1"}`, `{"role":"x"}`), true, KindSigner, ""},
		{"alg missing", withJWKS, unsigned(`{"typ":"JWT"}`, `{"role":"x"}`), true, KindSigner, ""},
		{"kid not a string", withJWKS, unsigned(`{"alg":"RS256","kid":5}`, `{"role":"x"}`), true, KindSigner, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := tc.ks.VerifyConn(tc.token, testNow)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if claims.Role() != "authenticated" || claims.Sub() != "user-1" {
					t.Fatalf("claims = %v", claims)
				}
				return
			}
			kind, kid, ok := kindOf(err)
			if !ok || kind != tc.kind || kid != tc.kid {
				t.Fatalf("err = %v (kind %v kid %q), want kind %v kid %q", err, kind, kid, tc.kind, tc.kid)
			}
		})
	}
}

func TestESCurveMismatch(t *testing.T) {
	k := keys(t)
	ks := must(NewKeySet(nil, k.jwks))
	// Signed with the right P-384 key but claiming ES256: the curve does not fit the alg.
	h := hdr("ES256", "ec384")
	token := tok(t, hdr("ES384", "ec384"), k.ec384, goodClaims())
	parts := strings.Split(token, ".")
	parts[0] = b64url(must(jsonMarshal(h)))
	_, err := ks.Verify(strings.Join(parts, "."), testNow)
	if kind, _, _ := kindOf(err); kind != KindSignature {
		t.Fatalf("err = %v, want signature", err)
	}
}

func unsigned(header, claims string) string {
	return b64url([]byte(header)) + "." + b64url([]byte(claims)) + ".c2ln"
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestVerifyClaimsAndShapes(t *testing.T) {
	k := keys(t)
	ks := must(NewKeySet(k.secret, nil))
	now := testNow.Unix()
	hs := func(c map[string]any) string { return tok(t, hdr("HS256", ""), k.secret, c) }
	cases := []struct {
		name  string
		token string
		conn  bool
		kind  Kind
		ok    bool
		extra func(t *testing.T, c Claims, e *Error)
	}{
		{name: "not-a-jwt", token: "not-a-jwt", kind: KindMalformed},
		{name: "empty", token: "", kind: KindMalformed},
		{name: "bad_token", token: "bad_token", kind: KindMalformed},
		{name: "bare base64", token: b64url([]byte(`{"role":"anon"}`)), kind: KindMalformed},
		{name: "two parts", token: "a.b", kind: KindMalformed},
		{name: "four parts", token: "a.b.c.d", kind: KindMalformed},
		{name: "payload not base64", token: "eyJhbGciOiJIUzI1NiJ9.!!!.sig", kind: KindMalformed},
		{name: "payload not JSON", token: unsigned(`{"alg":"HS256"}`, `{role`), kind: KindMalformed},
		{name: "payload trailing data", token: unsigned(`{"alg":"HS256"}`, `{} {}`), kind: KindMalformed},
		{name: "bad percent escape", token: "%zz" + hs(goodClaims()), kind: KindMalformed},
		{name: "claims array", token: unsigned(`{"alg":"HS256"}`, `[1,2]`), kind: KindGeneric},
		{name: "header array", token: unsigned(`["HS256"]`, `{}`), kind: KindGeneric},
		{name: "header not base64", token: "!!." + b64url([]byte(`{}`)) + ".x", kind: KindGeneric},
		{name: "exp string", token: hs(map[string]any{"role": "a", "exp": "123"}), kind: KindExpInvalid},
		{name: "exp string conn", conn: true, token: hs(map[string]any{"role": "a", "exp": "9999999999"}), kind: KindExpInvalid},
		{name: "exp string no role conn", conn: true, token: hs(map[string]any{"exp": "9999999999"}), kind: KindMissingClaims},
		{name: "exp null", token: hs(map[string]any{"role": "a", "exp": nil}), kind: KindExpInvalid},
		{name: "iat string", token: hs(map[string]any{"role": "a", "exp": now + 10, "iat": "1"}), kind: KindGeneric},
		{name: "expired", token: hs(map[string]any{"role": "a", "exp": now - 1000}), kind: KindExpired,
			extra: func(t *testing.T, c Claims, e *Error) {
				if e.ExpiredFor != 1000 || e.JoinReason() != "InvalidJWTToken: Token has expired 1000 seconds ago" {
					t.Fatalf("expired: %+v %q", e, e.JoinReason())
				}
				if c.Sub() != "" || c["role"] != "a" {
					t.Fatalf("claims should be returned with a claim error: %v", c)
				}
			}},
		{name: "exp equals now", token: hs(map[string]any{"role": "a", "exp": now}), kind: KindExpired},
		{name: "missing role", conn: true, token: hs(map[string]any{"exp": now + 10}), kind: KindMissingClaims},
		{name: "missing exp", conn: true, token: hs(map[string]any{"role": "anon"}), kind: KindMissingClaims},
		{name: "missing role on Verify is fine", token: hs(map[string]any{"exp": now + 10}), ok: true},
		{name: "expired beats missing role", conn: true, token: hs(map[string]any{"exp": now - 5}), kind: KindExpired},
		{name: "decimal exp and iat rounded", conn: true, ok: true,
			token: hs(map[string]any{"role": "a", "exp": float64(now) + 100.6, "iat": float64(now) - 0.6}),
			extra: func(t *testing.T, c Claims, _ *Error) {
				if exp, ok := c.Exp(); !ok || exp != now+101 || c["exp"] != now+101 {
					t.Fatalf("exp = %v", c["exp"])
				}
				if c["iat"] != now-1 {
					t.Fatalf("iat = %v (%T)", c["iat"], c["iat"])
				}
			}},
		{name: "whitespace and newlines stripped", conn: true, ok: true, token: spread(hs(goodClaims()))},
		{name: "url-encoded", conn: true, ok: true, token: url.PathEscape(" " + hs(goodClaims()) + "\n")},
		{name: "huge exp", conn: true, ok: true, token: unsignedHS(k.secret, `{"role":"a","exp":1e400}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			verify := ks.Verify
			if tc.conn {
				verify = ks.VerifyConn
			}
			c, err := verify(tc.token, testNow)
			var e *Error
			if tc.ok {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			} else if !errors.As(err, &e) || e.Kind != tc.kind {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			if tc.extra != nil {
				tc.extra(t, c, e)
			}
		})
	}
}

// spread inserts whitespace of several kinds inside the token.
func spread(s string) string {
	return " \t" + s[:10] + "\n" + s[10:20] + "\r\n " + s[20:] + "\u00a0"
}

// unsignedHS signs raw claims JSON (numbers json.Marshal cannot produce).
func unsignedHS(secret []byte, claims string) string {
	input := b64url([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64url([]byte(claims))
	return input + "." + b64url(hmacSum(secret, input))
}

func TestClaimValidators(t *testing.T) {
	k := keys(t)
	ks := must(NewKeySet(k.secret, nil)).WithClaimValidators(map[string]any{"iss": "Issuer"})
	now := testNow.Unix()
	for _, tc := range []struct {
		iss any
		ok  bool
	}{{"Issuer", true}, {nil, true}, {"Other", false}} {
		c := map[string]any{"role": "a", "exp": now + 10}
		if tc.iss != nil {
			c["iss"] = tc.iss
		}
		_, err := ks.VerifyConn(tok(t, hdr("HS256", ""), k.secret, c), testNow)
		if (err == nil) != tc.ok {
			t.Fatalf("iss %v: err = %v", tc.iss, err)
		}
		if kind, _, _ := kindOf(err); err != nil && kind != KindGeneric {
			t.Fatalf("kind = %v", kind)
		}
	}
}

func TestNewKeySet(t *testing.T) {
	for _, bad := range []string{`[]`, `"x"`, `{"keys":{}}`, `{"keys":[1]}`, `{`} {
		if _, err := NewKeySet(nil, []byte(bad)); err == nil {
			t.Errorf("NewKeySet(%s) succeeded", bad)
		}
	}
	for _, good := range []string{``, `null`, `{}`, `{"keys":[]}`, `{"keys":[{"kty":"weird"}]}`} {
		if _, err := NewKeySet(nil, []byte(good)); err != nil {
			t.Errorf("NewKeySet(%s): %v", good, err)
		}
	}
	ks := must(NewKeySet(nil, keys(t).jwks))
	if p := ks.Problems(); len(p) != 2 {
		t.Fatalf("problems = %v", p)
	}
}

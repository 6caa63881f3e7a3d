package auth

import (
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary tokens to a KeySet holding every key type: it must never panic,
// and every failure must be an *Error with a client message.
func FuzzVerify(f *testing.F) {
	k := keys(f)
	ks := must(NewKeySet(k.secret, k.jwks))
	c := goodClaims()
	for _, s := range []string{
		"", "not-a-jwt", "a.b.c", "a.b.c.d", "%", "%2", "...",
		unsigned(`{"alg":"HS256"}`, `[1]`), unsigned(`{"alg":"RS256","kid":"rsa1"}`, `{"exp":"x"}`),
		unsigned(`{"alg":"EdDSA","kid":"ed1"}`, `{"exp":1e999,"iat":-1e999}`),
		tok(f, hdr("HS256", ""), k.secret, c), tok(f, hdr("RS256", "rsa1"), k.rsa, c),
		tok(f, hdr("ES512", "ec521"), k.ec521, c), tok(f, hdr("EdDSA", "ed1"), k.ed, c),
		tok(f, hdr("HS256", "oct1"), k.octSecret, c),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, verify := range []func(string, time.Time) (Claims, error){ks.Verify, ks.VerifyConn} {
			claims, err := verify(token, testNow)
			if err == nil {
				_ = claims.Role()
				continue
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			if _, msg := e.ConnectStatus(); msg == "" || e.JoinReason() == "" || e.ShutdownMessage() == "" {
				t.Fatalf("empty message for %+v", e)
			}
		}
	})
}

func BenchmarkVerifyHS256(b *testing.B) {
	k := keys(b)
	ks := must(NewKeySet(k.secret, nil))
	token := tok(b, hdr("HS256", ""), k.secret, goodClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.VerifyConn(token, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256(b *testing.B) {
	k := keys(b)
	ks := must(NewKeySet(k.secret, k.jwks))
	token := tok(b, hdr("RS256", "rsa1"), k.rsa, goodClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.VerifyConn(token, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

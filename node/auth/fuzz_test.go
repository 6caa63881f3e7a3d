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

// FuzzTamper changes one byte of a valid token (HS256, RS256, ES256 or EdDSA) or cuts it: a
// token that still verifies must carry exactly the original claims (base64 padding bits and
// dropped whitespace may change the text, never the meaning).
func FuzzTamper(f *testing.F) {
	k := keys(f)
	ks := must(NewKeySet(k.secret, k.jwks))
	c := goodClaims()
	tokens := []string{
		tok(f, hdr("HS256", ""), k.secret, c), tok(f, hdr("RS256", "rsa1"), k.rsa, c),
		tok(f, hdr("ES256", "ec256"), k.ec256, c), tok(f, hdr("EdDSA", "ed1"), k.ed, c),
	}
	want := must(ks.VerifyConn(tokens[0], testNow))
	for i := range tokens {
		f.Add(uint8(i), uint16(0), byte('x'), false)
		f.Add(uint8(i), uint16(len(tokens[i])-1), byte('A'), false)
		f.Add(uint8(i), uint16(30), byte('.'), true)
	}
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, b byte, cut bool) {
		orig := tokens[int(which)%len(tokens)]
		i := int(pos) % len(orig)
		var mutated string
		if cut {
			mutated = orig[:i]
		} else {
			mutated = orig[:i] + string([]byte{b}) + orig[i+1:]
		}
		got, err := ks.VerifyConn(mutated, testNow)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		if string(must(jsonMarshal(got))) != string(must(jsonMarshal(want))) {
			t.Fatalf("tampered token %q verified with claims %v, want %v", mutated, got, want)
		}
	})
}

// FuzzForeignKey signs arbitrary header and claims JSON with keys the tenant does not hold: no
// such token may ever verify, whatever the header says (alg, kid, jwk, jku, duplicates).
func FuzzForeignKey(f *testing.F) {
	k := keys(f)
	ks := must(NewKeySet(k.secret, k.jwks))
	foreignHS := []byte("not-the-tenant-secret-but-just-as-long!!")
	foreignEC := must(ecdsaKey())
	for _, h := range []string{`{"alg":"HS256"}`, `{"alg":"HS256","kid":"oct1"}`, `{"alg":"RS256","kid":"rsa1"}`,
		`{"alg":"ES256","kid":"ec256"}`, `{"alg":"none"}`, `{"alg":"EdDSA","kid":"ed1"}`, `{"alg":"HS256","alg":"ES256","kid":"ec256"}`} {
		f.Add(h, `{"role":"service_role","exp":9999999999}`)
	}
	f.Fuzz(func(t *testing.T, header, claims string) {
		input := b64url([]byte(header)) + "." + b64url([]byte(claims))
		for _, sig := range [][]byte{hmacSum(foreignHS, input), esSig(foreignEC, input), hmacSum(k.rsa.N.Bytes(), input)} {
			if _, err := ks.Verify(input+"."+b64url(sig), testNow); err == nil {
				t.Fatalf("token with header %q signed by a foreign key verified", header)
			}
		}
	})
}

package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
// e.g. to add a kid.
func SignHeader(header map[string]any, key any, claims map[string]any) (string, error) {
	alg, _ := header["alg"].(string)
	a, ok := algs[alg]
	if !ok || alg == "Ed448" {
		return "", fmt.Errorf("sign: unsupported alg %q", alg)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("sign: header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sig, err := signBytes(a.fam, a.hash, alg, key, []byte(input))
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", alg, err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}

func signBytes(fam algFamily, h crypto.Hash, alg string, key any, msg []byte) ([]byte, error) {
	switch k := key.(type) {
	case []byte:
		if fam == famHS {
			mac := hmac.New(h.New, k)
			mac.Write(msg)
			return mac.Sum(nil), nil
		}
	case *rsa.PrivateKey:
		if fam == famRS {
			return rsa.SignPKCS1v15(rand.Reader, k, h, digest(h, msg))
		}
	case *ecdsa.PrivateKey:
		if fam == famES {
			return signES(k, h, msg)
		}
	case ed25519.PrivateKey:
		if fam == famEd {
			return ed25519.Sign(k, msg), nil
		}
	}
	return nil, fmt.Errorf("key type %T does not fit alg %s", key, alg)
}

// signES produces the fixed-size r||s form JWS requires (not ASN.1).
func signES(k *ecdsa.PrivateKey, h crypto.Hash, msg []byte) ([]byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, k, digest(h, msg))
	if err != nil {
		return nil, err
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}

// PublicJWK returns the public JWK (as a JSON object) of an RSA, ECDSA or Ed25519 key, or
// an oct JWK for a []byte secret; for tests and dev tooling.
func PublicJWK(kid string, key any) (map[string]any, error) {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case []byte:
		return map[string]any{"kty": "oct", "kid": kid, "k": enc(k)}, nil
	case *rsa.PrivateKey:
		return PublicJWK(kid, &k.PublicKey)
	case *rsa.PublicKey:
		e := big64(int64(k.E))
		return map[string]any{"kty": "RSA", "kid": kid, "n": enc(k.N.Bytes()), "e": enc(e)}, nil
	case *ecdsa.PrivateKey:
		return PublicJWK(kid, &k.PublicKey)
	case *ecdsa.PublicKey:
		point, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("jwk: %w", err)
		}
		size := (len(point) - 1) / 2
		return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name,
			"x": enc(point[1 : 1+size]), "y": enc(point[1+size:])}, nil
	case ed25519.PrivateKey:
		return PublicJWK(kid, k.Public())
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": enc(k)}, nil
	}
	return nil, fmt.Errorf("jwk: unsupported key type %T", key)
}

func big64(v int64) []byte {
	var b []byte
	for ; v > 0; v >>= 8 {
		b = append([]byte{byte(v)}, b...)
	}
	return b
}

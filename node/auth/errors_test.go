package auth

import (
	"strings"
	"testing"
)

// TestErrorMessages pins every client-facing text of docs/protocol.md#connect-checks, #token-lifecycle and #join-pipeline row 7.
func TestErrorMessages(t *testing.T) {
	const signer = "Failed to generate JWT signer, check your JWT secret or JWKS configuration"
	const signerKid = `Failed to generate JWT signer for key ID (kid) "abc-1", check your JWT secret or JWKS configuration`
	cases := []struct {
		err      Error
		status   int
		connect  string
		join     string
		shutdown string
	}{
		{Error{Kind: KindMalformed}, 401, "The token provided is not a valid JWT",
			"MalformedJWT: The token provided is not a valid JWT", "The token provided is not a valid JWT"},
		{Error{Kind: KindSignature}, 401, "Failed to validate JWT signature",
			"JwtSignatureError: Failed to validate JWT signature", "Failed to validate JWT signature"},
		{Error{Kind: KindSigner}, 401, signer, "JwtSignerError: " + signer, signer},
		{Error{Kind: KindSigner, Kid: "abc-1"}, 401, signerKid, "JwtSignerError: " + signerKid, signerKid},
		{Error{Kind: KindExpired, ExpiredFor: 42}, 401, "Token has expired",
			"InvalidJWTToken: Token has expired 42 seconds ago", "Token has expired 42 seconds ago"},
		{Error{Kind: KindMissingClaims}, 401, "Fields `role` and `exp` are required in JWT",
			"InvalidJWTToken: Fields `role` and `exp` are required in JWT", "Fields `role` and `exp` are required in JWT"},
		{Error{Kind: KindExpInvalid}, 500, "Error connecting to Realtime",
			"InvalidJWTToken: Token expiration time is invalid", "Token expiration time is invalid"},
		{Error{Kind: KindGeneric, Detail: "claims are not a JSON object"}, 500, "Error connecting to Realtime",
			"Unknown Error on Channel", "Unknown Error on Channel"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Kind.String(), func(t *testing.T) {
			e := tc.err
			status, msg := e.ConnectStatus()
			if status != tc.status || msg != tc.connect {
				t.Errorf("ConnectStatus = %d %q, want %d %q", status, msg, tc.status, tc.connect)
			}
			if got := e.JoinReason(); got != tc.join {
				t.Errorf("JoinReason = %q, want %q", got, tc.join)
			}
			if got := e.ShutdownMessage(); got != tc.shutdown {
				t.Errorf("ShutdownMessage = %q, want %q", got, tc.shutdown)
			}
			if !strings.HasPrefix(e.Error(), "auth: ") || !strings.HasPrefix(tc.join, e.Code()) && e.Kind != KindGeneric {
				t.Errorf("Error() = %q, Code() = %q", e.Error(), e.Code())
			}
		})
	}
}

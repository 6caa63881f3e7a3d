// Package auth verifies Realtime JWTs as upstream does (HS*, RS*, ES*, EdDSA via JWKS). Signatures
// are checked by golang-jwt and JWKs parsed by go-jose; this package keeps only what is upstream's
// own: the token cleaning, the order in which claims and header are peeked, the key-selection
// table, the exp/iat/claim-validator rules, and the mapping of failures onto upstream's exact
// client texts (docs/protocol.md#connect-checks, #token-lifecycle and #join-pipeline).
package auth

import (
	"fmt"
	"net/http"
	"strconv"
)

// Kind classifies a verification failure; each kind maps to the fixed client-facing texts of
// docs/protocol.md#connect-checks (connect), #join-pipeline row 7 (join) and #token-lifecycle (shutdown).
type Kind int

const (
	// KindGeneric is any failure without a dedicated message (claims not an object, header not
	// an object, iat not a number, a claim validator mismatch, an unusable JWK).
	KindGeneric Kind = iota
	// KindMalformed means the token cannot be split/decoded at all.
	KindMalformed
	// KindSigner means no key for the alg (Kid empty) or no JWK for the kid (Kid set).
	KindSigner
	// KindSignature means the signature does not verify.
	KindSignature
	// KindExpired means exp <= now; ExpiredFor says by how many seconds.
	KindExpired
	// KindMissingClaims means role or exp absent (connection-level checks only).
	KindMissingClaims
	// KindExpInvalid means exp present but not a number.
	KindExpInvalid
)

var kindNames = [...]string{"generic", "malformed", "signer", "signature", "expired", "missing_claims", "exp_invalid"}

func (k Kind) String() string {
	if int(k) >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is a token verification failure. It never contains the token itself.
type Error struct {
	Kind Kind
	// Kid is the key id that had no JWK (KindSigner only; empty for "no key for alg").
	Kid string
	// ExpiredFor is now - exp in seconds (KindExpired only).
	ExpiredFor int64
	// Detail is a log-only explanation for KindGeneric; never shown to clients.
	Detail string
	// cause is the library error behind the failure (golang-jwt, go-jose), for errors.Is/As
	// and logs; never shown to clients.
	cause error
}

// Unwrap returns the library error behind the failure, if any.
func (e *Error) Unwrap() error { return e.cause }

// Fixed client-facing texts (docs/protocol.md#connect-checks, #token-lifecycle, #join-pipeline).
const (
	msgMalformed     = "The token provided is not a valid JWT"
	msgSignature     = "Failed to validate JWT signature"
	msgSigner        = "Failed to generate JWT signer, check your JWT secret or JWKS configuration"
	msgSignerKidFmt  = "Failed to generate JWT signer for key ID (kid) %q, check your JWT secret or JWKS configuration"
	msgExpired       = "Token has expired"
	msgMissingClaims = "Fields `role` and `exp` are required in JWT"
	msgExpInvalid    = "Token expiration time is invalid"
	msgConnectError  = "Error connecting to Realtime"
	msgUnknownJoin   = "Unknown Error on Channel"
)

func (e *Error) Error() string {
	switch e.Kind {
	case KindGeneric:
		if e.Detail != "" {
			return "auth: invalid token: " + e.Detail
		}
		return "auth: invalid token"
	case KindExpired:
		return "auth: " + e.expiredMessage()
	default:
		return "auth: " + e.message()
	}
}

// signerMessage quotes the kid like Elixir's inspect/1 of a binary would for printable text.
func (e *Error) signerMessage() string {
	if e.Kid == "" {
		return msgSigner
	}
	return fmt.Sprintf(msgSignerKidFmt, e.Kid)
}

func (e *Error) expiredMessage() string {
	return msgExpired + " " + strconv.FormatInt(e.ExpiredFor, 10) + " seconds ago"
}

// message is the text without code prefix as used by join reasons and shutdown messages.
func (e *Error) message() string {
	switch e.Kind {
	case KindMalformed:
		return msgMalformed
	case KindSigner:
		return e.signerMessage()
	case KindSignature:
		return msgSignature
	case KindExpired:
		return e.expiredMessage()
	case KindMissingClaims:
		return msgMissingClaims
	case KindExpInvalid:
		return msgExpInvalid
	default:
		return msgUnknownJoin
	}
}

// Code is the operational log code of docs/protocol.md#error-codes for this failure.
func (e *Error) Code() string {
	switch e.Kind {
	case KindMalformed:
		return "MalformedJWT"
	case KindSigner:
		return "JwtSignerError"
	case KindSignature:
		return "JwtSignatureError"
	case KindExpired, KindMissingClaims, KindExpInvalid:
		return "InvalidJWTToken"
	default:
		return "UnknownErrorOnChannel"
	}
}

// ConnectStatus is the HTTP status and exact `error` message of the upgrade rejection (docs/protocol.md#connect-checks).
func (e *Error) ConnectStatus() (status int, message string) {
	switch e.Kind {
	case KindMalformed:
		return http.StatusUnauthorized, msgMalformed
	case KindSigner:
		return http.StatusUnauthorized, e.signerMessage()
	case KindSignature:
		return http.StatusUnauthorized, msgSignature
	case KindExpired:
		// On connect the message carries no duration.
		return http.StatusUnauthorized, msgExpired
	case KindMissingClaims:
		return http.StatusUnauthorized, msgMissingClaims
	default:
		// A string exp passes upstream validation and crashes later: the generic 500.
		return http.StatusInternalServerError, msgConnectError
	}
}

// JoinReason is the exact `response.reason` of a rejected phx_join (docs/protocol.md#join-pipeline row 7).
func (e *Error) JoinReason() string {
	if e.Kind == KindGeneric {
		return msgUnknownJoin
	}
	return e.Code() + ": " + e.message()
}

// ShutdownMessage is the `system` message pushed when an access_token refresh or the periodic
// re-check fails (1.6 shutdown table).
func (e *Error) ShutdownMessage() string { return e.message() }

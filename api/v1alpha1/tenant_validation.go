package v1alpha1

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// The checks below are the Go form of the Tenant CRD's OpenAPI and CEL rules (the markers in
// tenant_types.go). The API server enforces the markers for Tenant resources; the node's tenants
// file has no API server in front of it, so it runs Validate instead. A table test in
// node/tenant/kube (TestFileAndAPIServerRejectTheSameSpecs) feeds the same invalid specs to both.
//
// Validate runs on the spec as written, before Default. Go cannot tell an absent field from one
// set to its zero value, so a zero is taken as absent (Default fills it): an explicit 0 or "" that
// the API server rejects (Minimum=1, MinLength=1) is a default in the file. The test lists these
// differences.

// MaxFailoverDelay is the largest spec.failoverDelay (the CRD's CEL rule).
const MaxFailoverDelay = 10 * time.Minute

// dnsLabel is the CRD's externalId pattern plus its MaxLength=63.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// SSLModes are the values of spec.database.sslMode (the CRD's enum), in libpq's order.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// IsDNSLabel reports whether s can be an external id: it names the tenant's host label and
// replication slot.
func IsDNSLabel(s string) bool { return dnsLabel.MatchString(s) }

// Validate checks a Tenant, before Default, against the rules of the CRD that the node needs, and
// reports every problem (joined), each prefixed by its field path. It never reads Secrets.
func (t *Tenant) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	s := &t.Spec
	if t.Name == "" {
		fail("metadata.name", "required")
	}
	if id := t.EffectiveExternalID(); id != "" && !IsDNSLabel(id) {
		fail("spec.externalId", "%q is not a DNS label (lowercase a-z, 0-9 and '-', at most 63 characters)", id)
	}
	if s.JWT.SecretRef != nil {
		validateRef("spec.jwt.secretRef", *s.JWT.SecretRef, fail)
	}
	if db := s.Database; db != nil {
		validateDatabase(db, fail)
	}
	if s.FailoverDelay != nil {
		switch d := s.FailoverDelay.Duration; {
		case d < 0:
			fail("spec.failoverDelay", "must not be negative")
		case d > MaxFailoverDelay:
			fail("spec.failoverDelay", "must be at most 10m")
		}
	}
	if field := s.Limits.negative(); field != "" {
		fail("spec.limits."+field, "must not be negative")
	}
	return errors.Join(errs...)
}

type failFunc func(field, format string, args ...any)

func validateDatabase(db *DatabaseSpec, fail failFunc) {
	switch {
	case db.Host == "":
		fail("spec.database.host", "required")
	case len(db.Host) > 253:
		fail("spec.database.host", "longer than 253 characters")
	}
	if db.Port < 0 || db.Port > 65535 {
		fail("spec.database.port", "%d is not a TCP port", db.Port)
	}
	if db.SSLMode != "" && !validSSLMode(db.SSLMode) {
		fail("spec.database.sslMode", "%q is not one of disable, allow, prefer, require, verify-ca, verify-full", db.SSLMode)
	}
	if len(db.Region) > 63 {
		fail("spec.database.region", "longer than 63 characters")
	}
	if db.MaxSlotLag != nil && db.MaxSlotLag.Sign() <= 0 {
		fail("spec.database.maxSlotLag", "must be a positive quantity of bytes, e.g. 1Gi")
	}
	if db.SlotPolicy != "" && db.SlotPolicy != SlotDropWhenSuspended && db.SlotPolicy != SlotKeep {
		fail("spec.database.slotPolicy", "%q is not one of dropWhenSuspended, keep", db.SlotPolicy)
	}
	// The CRD requires passwordSecretRef; the file accepts a database without one (trust auth in
	// development), so only a reference that is there is checked.
	if ref := db.PasswordSecretRef; ref != (SecretKeySelector{}) {
		validateRef("spec.database.passwordSecretRef", ref, fail)
	}
}

func validSSLMode(m string) bool {
	for _, s := range SSLModes {
		if m == s {
			return true
		}
	}
	return false
}

func validateRef(field string, ref SecretKeySelector, fail failFunc) {
	switch {
	case ref.Name == "" || ref.Key == "":
		fail(field, "name and key are required")
	case len(ref.Name) > 253 || len(ref.Key) > 253:
		fail(field, "name and key must be at most 253 characters")
	}
}

// negative names the first negative limit field, or "".
func (l TenantLimits) negative() string {
	fields := []struct {
		name string
		v    int32
	}{
		{"maxConcurrentUsers", l.MaxConcurrentUsers}, {"maxEventsPerSecond", l.MaxEventsPerSecond},
		{"maxJoinsPerSecond", l.MaxJoinsPerSecond}, {"maxChannelsPerClient", l.MaxChannelsPerClient},
		{"maxBytesPerSecond", l.MaxBytesPerSecond}, {"maxPresenceEventsPerSecond", l.MaxPresenceEventsPerSecond},
		{"maxPayloadSizeInKb", l.MaxPayloadSizeInKb},
		{"maxClientPresenceEventsPerWindow", l.MaxClientPresenceEventsPerWindow},
		{"clientPresenceWindowMs", l.ClientPresenceWindowMs},
	}
	for _, f := range fields {
		if f.v < 0 {
			return f.name
		}
	}
	return ""
}

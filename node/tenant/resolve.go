package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/realtimeops/realtime/node/auth"
)

// Defaults applied by Resolve.
const (
	DefaultNamespace    = "default"
	DefaultDatabasePort = 5432
	DefaultDatabaseName = "postgres"
	DefaultSSLMode      = "require" // upstream enables TLS unless ssl_enforced is false (spec 7.5)
)

// SecretFunc returns the value of a Secret key in the tenant's namespace.
type SecretFunc func(ref SecretKeyRef) ([]byte, error)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

var sslModes = map[string]bool{
	"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true,
}

// Resolve validates spec, resolves its Secret references and applies defaults. Every problem
// is reported (joined), each prefixed with its field path. Errors never contain secret values.
func Resolve(meta Meta, spec TenantSpec, secret SecretFunc) (*Tenant, error) {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	t := &Tenant{
		ExternalID: spec.ExternalID, Name: meta.Name, Namespace: meta.Namespace,
		Suspend: spec.Suspend, PrivateOnly: spec.PrivateOnly, PresenceEnabled: spec.PresenceEnabled,
	}
	if t.Namespace == "" {
		t.Namespace = DefaultNamespace
	}
	if meta.Name == "" {
		fail("metadata.name", "required")
	}
	if t.ExternalID == "" {
		t.ExternalID = meta.Name
	}
	if t.ExternalID != "" && !dnsLabel.MatchString(t.ExternalID) {
		fail("spec.externalId", "%q is not a DNS label (lowercase a-z, 0-9 and '-', at most 63 characters)", t.ExternalID)
	}
	resolveJWT(t, spec.JWT, secret, fail)
	if spec.Database != nil {
		t.Database = resolveDatabase(*spec.Database, secret, fail)
	}
	if spec.PostgresChanges != nil && spec.PostgresChanges.Enabled {
		t.PostgresChanges = true
		if spec.Database == nil {
			fail("spec.postgresChanges.enabled", "requires spec.database")
		}
	}
	if spec.FailoverDelay != nil {
		if t.FailoverDelay = spec.FailoverDelay.Duration; t.FailoverDelay < 0 {
			fail("spec.failoverDelay", "must not be negative")
		}
	}
	if field := negativeLimit(spec.Limits); field != "" {
		fail("spec.limits."+field, "must not be negative")
	}
	t.Limits = spec.Limits.Defaulted()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

type failFunc func(field, format string, args ...any)

func resolveJWT(t *Tenant, spec JWTSpec, secret SecretFunc, fail failFunc) {
	if spec.SecretRef != nil {
		v, ok := resolveRef("spec.jwt.secretRef", *spec.SecretRef, secret, fail)
		if ok && len(v) == 0 {
			fail("spec.jwt.secretRef", "Secret %q key %q is empty", spec.SecretRef.Name, spec.SecretRef.Key)
		}
		t.JWTSecret = v
	}
	hasKeys := false
	if len(spec.JWKS) > 0 && string(spec.JWKS) != "null" {
		var buf bytes.Buffer
		if err := json.Compact(&buf, spec.JWKS); err != nil {
			fail("spec.jwt.jwks", "invalid JSON: %v", err)
			return
		}
		ks, err := auth.NewKeySet(nil, buf.Bytes())
		if err != nil {
			fail("spec.jwt.jwks", "%v", err)
			return
		}
		for _, p := range ks.Problems() {
			fail("spec.jwt.jwks", "%s", p)
		}
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		_ = json.Unmarshal(buf.Bytes(), &set) // shape already checked by NewKeySet
		hasKeys = len(set.Keys) > 0
		t.JWKS = json.RawMessage(buf.Bytes())
	}
	if spec.SecretRef == nil && !hasKeys {
		fail("spec.jwt", "secretRef or a jwks with at least one key is required")
	}
}

func resolveDatabase(spec DatabaseSpec, secret SecretFunc, fail failFunc) *Database {
	db := &Database{Host: spec.Host, Port: spec.Port, Name: spec.Name, User: spec.User,
		SSLMode: spec.SSLMode, Region: spec.Region}
	if db.Host == "" {
		fail("spec.database.host", "required")
	}
	if db.User == "" {
		fail("spec.database.user", "required")
	}
	if db.Port == 0 {
		db.Port = DefaultDatabasePort
	}
	if db.Port < 1 || db.Port > 65535 {
		fail("spec.database.port", "%d is not a TCP port", db.Port)
	}
	if db.Name == "" {
		db.Name = DefaultDatabaseName
	}
	if db.SSLMode == "" {
		db.SSLMode = DefaultSSLMode
	}
	if !sslModes[db.SSLMode] {
		fail("spec.database.sslMode", "%q is not one of disable, allow, prefer, require, verify-ca, verify-full", db.SSLMode)
	}
	if spec.PasswordSecretRef != nil {
		v, _ := resolveRef("spec.database.passwordSecretRef", *spec.PasswordSecretRef, secret, fail)
		db.Password = string(v)
	}
	return db
}

func resolveRef(field string, ref SecretKeyRef, secret SecretFunc, fail failFunc) ([]byte, bool) {
	if ref.Name == "" || ref.Key == "" {
		fail(field, "name and key are required")
		return nil, false
	}
	if secret == nil {
		fail(field, "no Secret source available")
		return nil, false
	}
	v, err := secret(ref)
	if err != nil {
		fail(field, "%v", err)
		return nil, false
	}
	return v, true
}

// negativeLimit names the first negative limit field, or "".
func negativeLimit(l Limits) string {
	fields := []struct {
		name string
		v    int
	}{
		{"maxConcurrentUsers", l.MaxConcurrentUsers}, {"maxEventsPerSecond", l.MaxEventsPerSecond},
		{"maxJoinsPerSecond", l.MaxJoinsPerSecond}, {"maxChannelsPerClient", l.MaxChannelsPerClient},
		{"maxBytesPerSecond", l.MaxBytesPerSecond}, {"maxPresenceEventsPerSecond", l.MaxPresenceEventsPerSecond},
		{"maxPayloadSizeInKb", l.MaxPayloadSizeKB},
		{"maxClientPresenceEventsPerWindow", l.MaxClientPresenceEventsPerWindow},
		{"clientPresenceWindowMs", l.ClientPresenceWindowMS},
	}
	for _, f := range fields {
		if f.v < 0 {
			return f.name
		}
	}
	return ""
}

package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/node/auth"
)

// DefaultNamespace is the namespace of a tenants file document without one.
const DefaultNamespace = "default"

// SecretFunc returns the value of a Secret key in the tenant's namespace.
type SecretFunc func(ref realtimev1.SecretKeySelector) ([]byte, error)

// Resolve validates spec (realtimev1.Tenant.Validate, the Go form of the CRD's rules), applies
// the CRD's defaults (realtimev1.Tenant.Default), parses the JWKS and resolves the Secret
// references. Every problem is reported (joined), each prefixed with its field path. Errors
// never contain secret values.
func Resolve(meta Meta, spec realtimev1.TenantSpec, secret SecretFunc) (*Tenant, error) {
	obj := &realtimev1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace},
		Spec:       *spec.DeepCopy(),
	}
	var errs []error
	if err := obj.Validate(); err != nil {
		errs = append(errs, err)
	}
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	// Stricter than the CRD, which defaults the switch on for every tenant (the Kubernetes source
	// drops it for tenants without a database): in a hand-written file it is a mistake.
	if pgc := spec.PostgresChanges.Enabled; pgc != nil && *pgc && spec.Database == nil {
		fail("spec.postgresChanges.enabled", "requires spec.database")
	}
	obj.Default()
	s := &obj.Spec
	t := &Tenant{
		ExternalID: obj.EffectiveExternalID(), Name: meta.Name, Namespace: meta.Namespace,
		Suspend: s.Suspend, PrivateOnly: s.PrivateOnly, PresenceEnabled: s.PresenceEnabled,
		// Without a database the switch has nothing to act on (the CRD defaults it on for
		// every tenant).
		PostgresChanges: s.Database != nil && obj.PostgresChangesEnabled(),
		FailoverDelay:   obj.FailoverDelayDuration(),
		Limits:          limitsFrom(s.Limits),
	}
	if t.Namespace == "" {
		t.Namespace = DefaultNamespace
	}
	resolveJWT(t, s.JWT, secret, fail)
	if db := s.Database; db != nil {
		t.Database = &Database{Host: db.Host, Port: int(db.Port), Name: db.Name, User: db.User,
			SSLMode: db.SSLMode, Region: db.Region}
		if ref := db.PasswordSecretRef; ref != (realtimev1.SecretKeySelector{}) {
			v, _ := resolveRef("spec.database.passwordSecretRef", ref, secret, fail)
			t.Database.Password = string(v)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

type failFunc func(field, format string, args ...any)

func resolveJWT(t *Tenant, spec realtimev1.JWTSpec, secret SecretFunc, fail failFunc) {
	if spec.SecretRef != nil {
		v, ok := resolveRef("spec.jwt.secretRef", *spec.SecretRef, secret, fail)
		if ok && len(v) == 0 {
			fail("spec.jwt.secretRef", "Secret %q key %q is empty", spec.SecretRef.Name, spec.SecretRef.Key)
		}
		t.JWTSecret = v
	}
	hasKeys := false
	if spec.JWKS != nil && len(spec.JWKS.Raw) > 0 && string(spec.JWKS.Raw) != "null" {
		var buf bytes.Buffer
		if err := json.Compact(&buf, spec.JWKS.Raw); err != nil {
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
	// Stricter than the CRD, which accepts an empty key set: a tenant no token can join is a
	// mistake to report, not to serve.
	if spec.SecretRef == nil && !hasKeys {
		fail("spec.jwt", "secretRef or a jwks with at least one key is required")
	}
}

// resolveRef reads one Secret key. A reference without name or key was reported by Validate.
func resolveRef(field string, ref realtimev1.SecretKeySelector, secret SecretFunc, fail failFunc) ([]byte, bool) {
	if ref.Name == "" || ref.Key == "" {
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

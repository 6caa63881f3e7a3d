package kube

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/node/tenant"
)

func TestRecordFrom(t *testing.T) {
	db := map[string]any{"host": "h", "user": "u", "passwordSecretRef": map[string]any{"name": "db", "key": "pw"}}
	tests := []struct {
		name        string
		spec        map[string]any
		status      map[string]any
		deleting    bool
		wantExt     string
		wantSecrets []string
		wantOwner   string
		wantNeeds   bool
		wantPGC     bool // spec.postgresChanges kept
	}{{
		name:    "broadcast only: defaulted postgresChanges dropped",
		spec:    map[string]any{"jwt": map[string]any{"jwks": map[string]any{"keys": []any{}}}, "postgresChanges": map[string]any{"enabled": true}},
		wantExt: "t1",
	}, {
		name: "database, assigned",
		spec: map[string]any{
			"externalId": "ext", "database": db, "postgresChanges": map[string]any{"enabled": true},
			"jwt": map[string]any{"secretRef": map[string]any{"name": "jwt", "key": "k"}},
		},
		status:      map[string]any{"replication": map[string]any{"node": "pod-0"}},
		wantExt:     "ext",
		wantSecrets: []string{"db", "jwt"},
		wantOwner:   "pod-0",
		wantNeeds:   true,
		wantPGC:     true,
	}, {
		name: "suspended: no WAL work",
		spec: map[string]any{"suspend": true, "database": db,
			"jwt": map[string]any{"secretRef": map[string]any{"name": "db", "key": "jwt"}}},
		status:      map[string]any{"replication": map[string]any{"node": "pod-0"}},
		wantExt:     "t1",
		wantSecrets: []string{"db"},
		wantOwner:   "pod-0",
	}, {
		name: "being deleted: no WAL work, so the finalizer's slot drop is not undone",
		spec: map[string]any{"database": db,
			"jwt": map[string]any{"secretRef": map[string]any{"name": "db", "key": "jwt"}}},
		status:      map[string]any{"replication": map[string]any{"node": "pod-0"}},
		deleting:    true,
		wantExt:     "t1",
		wantSecrets: []string{"db"},
		wantOwner:   "pod-0",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tenantObj("ns", "t1", "c", tc.spec)
			if tc.status != nil {
				u.Object["status"] = tc.status
			}
			if tc.deleting {
				now := metav1.Now()
				u.SetDeletionTimestamp(&now)
			}
			r, err := recordFrom(u)
			if err != nil {
				t.Fatal(err)
			}
			if r.externalID() != tc.wantExt || r.owner != tc.wantOwner || r.needsOwner() != tc.wantNeeds ||
				!slices.Equal(r.secrets, tc.wantSecrets) || (r.spec.PostgresChanges.Enabled != nil) != tc.wantPGC {
				t.Fatalf("record = ext %q owner %q needs %v secrets %q pgc %v",
					r.externalID(), r.owner, r.needsOwner(), r.secrets, r.spec.PostgresChanges)
			}
			if r.meta.Namespace != "ns" || r.meta.Name != "t1" || clusterOf(u) != "c" {
				t.Fatalf("meta = %+v cluster %q", r.meta, clusterOf(u))
			}
		})
	}
}

func TestSecretFuncNeverLeaksValues(t *testing.T) {
	store := map[string]*corev1.Secret{
		"s": {ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: map[string][]byte{"k": []byte("hunter2")}},
	}
	get := func(name string) (*corev1.Secret, error) {
		if name == "broken" {
			return nil, errors.New("cache exploded")
		}
		return store[name], nil
	}
	f := secretFunc(get)
	if v, err := f(realtimev1.SecretKeySelector{Name: "s", Key: "k"}); err != nil || string(v) != "hunter2" {
		t.Fatalf("value = %q, %v", v, err)
	}
	for _, tc := range []struct {
		ref  realtimev1.SecretKeySelector
		want string
	}{
		{realtimev1.SecretKeySelector{Name: "missing", Key: "k"}, `Secret "missing" not found`},
		{realtimev1.SecretKeySelector{Name: "s", Key: "other"}, `Secret "s" has no key "other"`},
		{realtimev1.SecretKeySelector{Name: "broken", Key: "k"}, `read Secret "broken"`},
	} {
		_, err := f(tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%+v: err = %v, want %q", tc.ref, err, tc.want)
		}
	}
}

func TestResolveThroughSharedResolver(t *testing.T) {
	u := tenantObj("ns", "t1", "c", map[string]any{
		"jwt":      map[string]any{"secretRef": map[string]any{"name": "s", "key": "jwt"}},
		"database": map[string]any{"host": "h", "user": "u", "passwordSecretRef": map[string]any{"name": "s", "key": "pw"}},
		"limits":   map[string]any{"maxConcurrentUsers": int64(7)},
	})
	r, err := recordFrom(u)
	if err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{Data: map[string][]byte{"jwt": []byte("j"), "pw": []byte("p")}}
	got, err := r.resolve(func(string) (*corev1.Secret, error) { return sec, nil })
	if err != nil {
		t.Fatal(err)
	}
	if got.Limits.MaxConcurrentUsers != 7 || got.Limits.MaxEventsPerSecond != tenant.DefaultLimits.MaxEventsPerSecond ||
		got.Database.Password != "p" || string(got.JWTSecret) != "j" || got.Namespace != "ns" {
		t.Fatalf("resolved = %+v", got)
	}
	_, err = r.resolve(func(string) (*corev1.Secret, error) { return nil, nil })
	if err == nil || !strings.Contains(err.Error(), "tenant ns/t1") {
		t.Fatalf("missing Secret: err = %v", err)
	}
}

func TestSlimSecret(t *testing.T) {
	for typ, keep := range map[corev1.SecretType]bool{
		corev1.SecretTypeOpaque: true, "helm.sh/release.v1": false, corev1.SecretTypeServiceAccountToken: false,
	} {
		s := &corev1.Secret{Type: typ, Data: map[string][]byte{"k": []byte("v")},
			ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}}}
		out, _ := slimSecret(s)
		got := out.(*corev1.Secret)
		if (got.Data != nil) != keep || got.ManagedFields != nil {
			t.Errorf("%s: data kept=%v managedFields=%v", typ, got.Data != nil, got.ManagedFields)
		}
	}
}

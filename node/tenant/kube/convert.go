package kube

import (
	"encoding/json"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/realtimeops/realtime/node/tenant"
)

// record is what the source keeps per Tenant resource of its cluster: the spec in the shape the
// shared resolver takes, the assignment written by the operator, and the Secrets it references.
type record struct {
	meta tenant.Meta
	spec tenant.TenantSpec
	// owner is status.replication.node: the pod allowed to run the tenant's WAL work.
	owner string
	// secrets are the names of the Secrets the spec references (sorted, unique).
	secrets []string
	// deleting: the Tenant has a deletionTimestamp; the operator's finalizer is dropping its
	// replication slot.
	deleting bool
}

// externalID is spec.externalId, defaulting to metadata.name as the resolver does.
func (r *record) externalID() string {
	if r.spec.ExternalID != "" {
		return r.spec.ExternalID
	}
	return r.meta.Name
}

// needsOwner mirrors v1alpha1.Tenant.NeedsOwner: WAL work exists for a tenant with a
// database that is not suspended. Anything else is never owned, whatever the status says. A
// Tenant being deleted has no WAL work either: its owner must stop streaming and release the
// Lease, or it would reconnect after the finalizer terminated its reader and recreate the slot
// the finalizer drops.
func (r *record) needsOwner() bool {
	return r.spec.Database != nil && !r.spec.Suspend && !r.deleting
}

// clusterOf returns spec.clusterRef.name of a Tenant object.
func clusterOf(u *unstructured.Unstructured) string {
	name, _, _ := unstructured.NestedString(u.Object, "spec", "clusterRef", "name")
	return name
}

// recordFrom converts a Tenant object into a record. The spec goes through a JSON round trip
// into tenant.TenantSpec, so the node and the file source share one resolver and one notion
// of what a tenant is.
func recordFrom(u *unstructured.Unstructured) (*record, error) {
	r := &record{meta: tenant.Meta{
		Name: u.GetName(), Namespace: u.GetNamespace(),
		Labels: u.GetLabels(), Annotations: u.GetAnnotations(),
	}, deleting: u.GetDeletionTimestamp() != nil}
	raw, err := json.Marshal(u.Object["spec"])
	if err != nil {
		return nil, fmt.Errorf("tenant %s/%s: encode spec: %w", r.meta.Namespace, r.meta.Name, err)
	}
	if err := json.Unmarshal(raw, &r.spec); err != nil {
		return nil, fmt.Errorf("tenant %s/%s: decode spec: %w", r.meta.Namespace, r.meta.Name, err)
	}
	// The CRD defaults postgresChanges.enabled to true even for tenants without a database;
	// for those the switch has nothing to act on, while the shared resolver (strict for
	// hand-written files) would reject the combination.
	if r.spec.Database == nil {
		r.spec.PostgresChanges = nil
	}
	r.owner, _, _ = unstructured.NestedString(u.Object, "status", "replication", "node")
	r.secrets = secretNames(r.spec)
	return r, nil
}

// secretNames lists the Secrets referenced by spec, sorted and unique.
func secretNames(spec tenant.TenantSpec) []string {
	var names []string
	if spec.JWT.SecretRef != nil && spec.JWT.SecretRef.Name != "" {
		names = append(names, spec.JWT.SecretRef.Name)
	}
	if db := spec.Database; db != nil && db.PasswordSecretRef != nil && db.PasswordSecretRef.Name != "" {
		names = append(names, db.PasswordSecretRef.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// secretGetter returns a Secret of the tenant's namespace by name; nil, nil when absent.
type secretGetter func(name string) (*corev1.Secret, error)

// secretFunc adapts a Secret lookup to the resolver. Errors name the Secret and key only:
// values never reach an error, a log line or an event.
func secretFunc(get secretGetter) tenant.SecretFunc {
	return func(ref tenant.SecretKeyRef) ([]byte, error) {
		s, err := get(ref.Name)
		if err != nil {
			return nil, fmt.Errorf("read Secret %q: %w", ref.Name, err)
		}
		if s == nil {
			return nil, fmt.Errorf("Secret %q not found", ref.Name)
		}
		if v, ok := s.Data[ref.Key]; ok {
			return v, nil
		}
		// stringData is write-only in the API, but a Secret read from a tenants file or a
		// fake may still carry it.
		if v, ok := s.StringData[ref.Key]; ok {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("Secret %q has no key %q", ref.Name, ref.Key)
	}
}

// resolve turns a record into the node's tenant, reading Secrets through get.
func (r *record) resolve(get secretGetter) (*tenant.Tenant, error) {
	t, err := tenant.Resolve(r.meta, r.spec, secretFunc(get))
	if err != nil {
		return nil, fmt.Errorf("tenant %s/%s: %w", r.meta.Namespace, r.meta.Name, err)
	}
	return t, nil
}

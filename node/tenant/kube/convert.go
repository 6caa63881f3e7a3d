package kube

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/node/tenant"
)

// record is what the source keeps per Tenant resource of its cluster: the spec (the custom
// resource's own type, which the file source decodes into too), the assignment written by the
// operator, and the Secrets it references.
type record struct {
	meta tenant.Meta
	spec realtimev1.TenantSpec
	// owner is status.replication.node: the pod allowed to run the tenant's WAL work.
	owner string
	// secrets are the names of the Secrets the spec references (sorted, unique).
	secrets []string
	// deleting: the Tenant has a deletionTimestamp; the operator's finalizer is dropping its
	// replication slot.
	deleting bool
}

// api is the record as the API's Tenant, for its pure methods.
func (r *record) api() *realtimev1.Tenant {
	return &realtimev1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: r.meta.Name, Namespace: r.meta.Namespace}, Spec: r.spec}
}

// externalID is spec.externalId, defaulting to metadata.name as the resolver does.
func (r *record) externalID() string { return r.api().EffectiveExternalID() }

// needsOwner is v1alpha1.Tenant.NeedsOwner: WAL work exists for a tenant with a database that
// is not suspended. Anything else is never owned, whatever the status says. A Tenant being
// deleted has no WAL work either: its owner must stop streaming and release the Lease, or it
// would reconnect after the finalizer terminated its reader and recreate the slot the finalizer
// drops.
func (r *record) needsOwner() bool { return r.api().NeedsOwner() && !r.deleting }

// clusterOf returns spec.clusterRef.name of a Tenant object.
func clusterOf(u *unstructured.Unstructured) string {
	name, _, _ := unstructured.NestedString(u.Object, "spec", "clusterRef", "name")
	return name
}

// recordFrom converts a Tenant object into a record: the object decodes into the API's Tenant,
// the type the file source decodes into as well, so the node has one notion of a tenant's spec.
func recordFrom(u *unstructured.Unstructured) (*record, error) {
	var obj realtimev1.Tenant
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &obj); err != nil {
		return nil, fmt.Errorf("tenant %s/%s: decode: %w", u.GetNamespace(), u.GetName(), err)
	}
	r := &record{meta: tenant.Meta{
		Name: obj.Name, Namespace: obj.Namespace, Labels: obj.Labels, Annotations: obj.Annotations,
	}, spec: obj.Spec, deleting: obj.DeletionTimestamp != nil}
	// The CRD defaults postgresChanges.enabled to true even for tenants without a database;
	// for those the switch has nothing to act on, while the shared resolver (strict for
	// hand-written files) would reject the combination.
	if r.spec.Database == nil {
		r.spec.PostgresChanges.Enabled = nil
	}
	if rep := obj.Status.Replication; rep != nil {
		r.owner = rep.Node
	}
	r.secrets = secretNames(r.api())
	return r, nil
}

// secretNames lists the Secrets referenced by t, sorted and unique.
func secretNames(t *realtimev1.Tenant) []string {
	var names []string
	for _, ref := range t.SecretRefs() {
		if ref.Name != "" {
			names = append(names, ref.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// secretGetter returns a Secret of the tenant's namespace by name; nil, nil when absent.
type secretGetter func(name string) (*corev1.Secret, error)

// secretFunc adapts a Secret lookup to the resolver. Errors name the Secret and key only:
// values never reach an error, a log line or an event.
func secretFunc(get secretGetter) tenant.SecretFunc {
	return func(ref realtimev1.SecretKeySelector) ([]byte, error) {
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

package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const cluster = "rt"

func alphaSpec() map[string]any {
	return map[string]any{
		"jwt": map[string]any{"secretRef": map[string]any{"name": "alpha-jwt", "key": "secret"}},
		"database": map[string]any{
			"host": "db.alpha.example", "region": "eu-central-1",
			"passwordSecretRef": map[string]any{"name": "alpha-db", "key": "password"},
		},
	}
}

// betaSpec has no database: the CRD still defaults postgresChanges.enabled to true.
func betaSpec() map[string]any {
	return map[string]any{
		"externalId": "beta-ext",
		"jwt":        map[string]any{"secretRef": map[string]any{"name": "beta-jwt", "key": "secret"}},
	}
}

// TestSourceFollowsTenantsAndSecrets drives one Source through the life of a tenant on the
// real apiserver. Where a change must produce no event, a change to the "beta" tenant through
// the same informer follows it: the worker handles keys in order, so beta's event arriving
// first proves the earlier change was seen and produced nothing.
func TestSourceFollowsTenantsAndSecrets(t *testing.T) {
	ns := newNamespace(t)
	putSecret(t, ns, "alpha-jwt", map[string]string{"secret": "first-jwt-secret"})
	putSecret(t, ns, "alpha-db", map[string]string{"password": "pw-1"})
	putSecret(t, ns, "beta-jwt", map[string]string{"secret": "beta-jwt-secret"})
	createTenant(t, tenantObj(ns, "alpha", cluster, alphaSpec()))
	createTenant(t, tenantObj(ns, "other", "another-cluster", alphaSpec()))

	src, events := startSource(t, ns, cluster)
	owners := src.OwnershipChanged()

	// Present at start: published before Ready, announced as an add.
	alpha, ok := src.Get("alpha")
	if !ok {
		t.Fatal("alpha not served after Ready")
	}
	if string(alpha.JWTSecret) != "first-jwt-secret" || alpha.Database.Password != "pw-1" ||
		alpha.Database.Region != "eu-central-1" || alpha.Database.Port != 5432 || !alpha.PostgresChanges {
		t.Fatalf("alpha resolved wrong: %+v db=%+v", alpha, alpha.Database)
	}
	expectEvent(t, events, "add", "alpha")
	if _, ok := src.Get("other"); ok {
		t.Fatal("tenant of another cluster served")
	}

	t.Run("create", func(t *testing.T) {
		createTenant(t, tenantObj(ns, "beta", cluster, betaSpec()))
		ev := expectEvent(t, events, "add", "beta-ext")
		if ev.New.Name != "beta" || ev.New.PostgresChanges || ev.New.Database != nil {
			t.Fatalf("beta resolved wrong: %+v", ev.New)
		}
	})

	t.Run("spec update", func(t *testing.T) {
		updateTenant(t, ns, "alpha", false, func(u *unstructured.Unstructured) { set(t, u, true, "spec", "privateOnly") })
		ev := expectEvent(t, events, "update", "alpha")
		if ev.Old.PrivateOnly || !ev.New.PrivateOnly {
			t.Fatalf("privateOnly old=%v new=%v", ev.Old.PrivateOnly, ev.New.PrivateOnly)
		}
		if got, _ := src.Get("alpha"); got != ev.New {
			t.Fatal("Get does not return the new tenant")
		}
	})

	t.Run("status update is an assignment, not a tenant change", func(t *testing.T) {
		drain(owners)
		updateTenant(t, ns, "alpha", true, func(u *unstructured.Unstructured) {
			set(t, u, "rt-eu-west-0", "status", "replication", "node")
		})
		waitSignal(t, owners, "ownership")
		equalStrings(t, "Owned", src.Owned("rt-eu-west-0"), []string{"alpha"})
		equalStrings(t, "OwnedNames", src.OwnedNames("rt-eu-west-0"), []string{"alpha"})
		equalStrings(t, "Owned by another pod", src.Owned("rt-eu-west-1"), nil)
		if owns := src.OwnsFunc("rt-eu-west-0"); !owns("alpha") || owns("beta-ext") {
			t.Fatal("OwnsFunc wrong")
		}
		// beta has no database: an assignment in its status is never WAL work.
		updateTenant(t, ns, "beta", true, func(u *unstructured.Unstructured) {
			set(t, u, "rt-eu-west-0", "status", "replication", "node")
		})
		updateTenant(t, ns, "beta", false, func(u *unstructured.Unstructured) { set(t, u, true, "spec", "presenceEnabled") })
		expectEvent(t, events, "update", "beta-ext")
		equalStrings(t, "Owned", src.Owned("rt-eu-west-0"), []string{"alpha"})
	})

	t.Run("secret data change re-resolves", func(t *testing.T) {
		updateSecret(t, ns, "alpha-jwt", func(s *corev1.Secret) { s.Data["secret"] = []byte("rotated-jwt-secret") })
		ev := expectEvent(t, events, "update", "alpha")
		if string(ev.Old.JWTSecret) != "first-jwt-secret" || string(ev.New.JWTSecret) != "rotated-jwt-secret" {
			t.Fatal("JWT secret rotation not seen")
		}
	})

	t.Run("secret change without effect is silent", func(t *testing.T) {
		updateSecret(t, ns, "alpha-jwt", func(s *corev1.Secret) { s.Labels = map[string]string{"touched": "yes"} })
		updateSecret(t, ns, "beta-jwt", func(s *corev1.Secret) { s.Data["secret"] = []byte("beta-rotated") })
		ev := expectEvent(t, events, "update", "beta-ext")
		if string(ev.New.JWTSecret) != "beta-rotated" {
			t.Fatal("beta rotation not seen")
		}
	})

	t.Run("secret deleted and recreated", func(t *testing.T) {
		if err := kubeCS.CoreV1().Secrets(ns).Delete(testCtx(t), "alpha-db", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		expectEvent(t, events, "delete", "alpha")
		if _, ok := src.Get("alpha"); ok {
			t.Fatal("alpha still served without its password")
		}
		// Still assigned: the owner keeps its Lease while the Secret is missing.
		equalStrings(t, "Owned", src.Owned("rt-eu-west-0"), []string{"alpha"})
		putSecret(t, ns, "alpha-db", map[string]string{"password": "pw-2"})
		ev := expectEvent(t, events, "add", "alpha")
		if ev.New.Database.Password != "pw-2" {
			t.Fatal("new password not used")
		}
	})

	t.Run("moved to another cluster", func(t *testing.T) {
		updateTenant(t, ns, "beta", false, func(u *unstructured.Unstructured) {
			set(t, u, "another-cluster", "spec", "clusterRef", "name")
		})
		expectEvent(t, events, "delete", "beta-ext")
	})

	t.Run("delete", func(t *testing.T) {
		err := dynCS.Resource(TenantGVR).Namespace(ns).Delete(testCtx(t), "alpha", metav1.DeleteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ev := expectEvent(t, events, "delete", "alpha")
		if ev.Old.Name != "alpha" {
			t.Fatalf("deleted tenant = %+v", ev.Old)
		}
		checkFor(t, "alpha unassigned", func() bool { return len(src.Owned("rt-eu-west-0")) == 0 })
		if all := src.All(); len(all) != 0 {
			t.Fatalf("tenants left: %d", len(all))
		}
	})

	select {
	case ev := <-events:
		k, id := eventName(ev)
		t.Fatalf("unexpected extra event %s %s", k, id)
	default:
	}
}

// TestSourceExternalIDConflict: two Tenants claiming one externalId; the first is served, the
// second waits and takes over when the first goes away.
func TestSourceExternalIDConflict(t *testing.T) {
	ns := newNamespace(t)
	putSecret(t, ns, "beta-jwt", map[string]string{"secret": "beta-jwt-secret"})
	src, events := startSource(t, ns, cluster)

	createTenant(t, tenantObj(ns, "first", cluster, betaSpec()))
	ev := expectEvent(t, events, "add", "beta-ext")
	if ev.New.Name != "first" {
		t.Fatalf("served %q", ev.New.Name)
	}
	createTenant(t, tenantObj(ns, "second", cluster, betaSpec()))
	if err := dynCS.Resource(TenantGVR).Namespace(ns).Delete(testCtx(t), "first", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, events, "delete", "beta-ext")
	ev = expectEvent(t, events, "add", "beta-ext")
	if ev.New.Name != "second" {
		t.Fatalf("served %q after the first left", ev.New.Name)
	}
	if got, _ := src.Get("beta-ext"); got.Name != "second" {
		t.Fatal("Get disagrees")
	}
}

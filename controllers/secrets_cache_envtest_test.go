package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func secretsResolved(want bool, reason realtimev1.ConditionReason) func(*realtimev1.Tenant) error {
	return func(tn *realtimev1.Tenant) error {
		c := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantSecretsResolved))
		if c == nil || (c.Status == metav1.ConditionTrue) != want || c.Reason != string(reason) {
			return fmt.Errorf("SecretsResolved %+v, want %v/%s", c, want, reason)
		}
		return nil
	}
}

// TestSecretCacheHoldsReferencedSecretsOnly: the operator's cache holds the Secrets a Tenant
// references (labelled on first read) and not the namespace's other Secrets; a change of a
// referenced Secret still reaches the controller by its watch, and a Secret created after the
// Tenant that references it is found without any event.
func TestSecretCacheHoldsReferencedSecretsOnly(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrelated"},
		StringData: map[string]string{"k": "v"}})
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "cached", "rt", "")
	mustCreate(t, tn)
	waitTenant(t, tn, secretsResolved(true, realtimev1.ReasonResolved))

	checkFor(t, 10*time.Second, func() error {
		s := &corev1.Secret{}
		if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "jwt"}, s); err != nil {
			return err
		}
		if s.Labels[WatchedSecretLabel] != "true" {
			return fmt.Errorf("referenced Secret labels %v", s.Labels)
		}
		return operatorCache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "jwt"}, &corev1.Secret{})
	})
	u := &corev1.Secret{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "unrelated"}, u); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Labels[WatchedSecretLabel]; ok {
		t.Fatalf("unreferenced Secret labelled: %v", u.Labels)
	}
	if err := operatorCache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "unrelated"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("unreferenced Secret in the operator's cache: %v", err)
	}

	// Rotation that breaks the key: seen through the watch of the labelled Secret.
	jwt := &corev1.Secret{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "jwt"}, jwt); err != nil {
		t.Fatal(err)
	}
	jwt.Data = map[string][]byte{"other": []byte("x")}
	if err := testClient.Update(ctx, jwt); err != nil {
		t.Fatal(err)
	}
	waitTenant(t, tn, secretsResolved(false, realtimev1.ReasonSecretKeyMissing))

	// A Tenant whose Secret comes later: found by the recheck, then labelled.
	late := testTenant(ns, "late", "rt", "")
	late.Spec.JWT.SecretRef.Name = "late-jwt"
	mustCreate(t, late)
	waitTenant(t, late, secretsResolved(false, realtimev1.ReasonSecretMissing))
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "late-jwt"},
		StringData: map[string]string{"secret": "a-jwt-secret-of-at-least-32-characters"}})
	waitTenant(t, late, secretsResolved(true, realtimev1.ReasonResolved))
}

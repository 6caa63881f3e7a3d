package controllers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	nc "github.com/realtimeops/realtime/node/nodeconfig"
)

// SecretsHashAnnotation on the pod template is a hash of the Secrets the node reads at start
// (cluster secret, TLS certificate): a rotation changes it, so the StatefulSets roll their pods
// one at a time and every node picks the new value up.
const SecretsHashAnnotation = "realtime.realtimeops.io/secrets-hash"

// generatedSecretBytes is the entropy of a generated inter-node secret (base64 in the Secret,
// because an environment variable cannot carry arbitrary bytes).
const generatedSecretBytes = 32

// reconcileSecrets makes sure the inter-node secret exists (generating it when the spec names
// none: the nodes always form a cluster and refuse to start without one), checks the referenced
// Secrets, and returns the hash of what the nodes read from them.
func (r *RealtimeClusterReconciler) reconcileSecrets(ctx context.Context, c *realtimev1.RealtimeCluster) (string, error) {
	if c.Spec.ClusterSecretRef == nil {
		if err := r.ensureGeneratedSecret(ctx, c); err != nil {
			return "", err
		}
	}
	h := sha256.New()
	ref := c.ClusterSecret()
	v, err := r.secretValue(ctx, c.Namespace, ref, realtimev1.ReasonClusterSecretError)
	if err != nil {
		return "", err
	}
	if len(v) < nc.MinClusterSecret {
		return "", specErrorf(realtimev1.ReasonClusterSecretError,
			"Secret %q key %q holds %d bytes; the inter-node secret needs at least %d", ref.Name, ref.Key, len(v), nc.MinClusterSecret)
	}
	h.Write(v)
	if t := c.Spec.TLS; t != nil {
		for _, key := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			v, err := r.secretValue(ctx, c.Namespace, realtimev1.SecretKeySelector{Name: t.SecretRef.Name, Key: key}, "TLSSecretMissing")
			if err != nil {
				return "", err
			}
			h.Write(v)
		}
	}
	if p := c.Spec.Discovery.Postgres; p != nil && c.Spec.Discovery.Mode == realtimev1.DiscoveryPostgres {
		if _, err := r.secretValue(ctx, c.Namespace, p.SecretRef, "DiscoverySecretMissing"); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// secretValue reads one key; a missing Secret or key is a specError with reason.
func (r *RealtimeClusterReconciler) secretValue(ctx context.Context, ns string, ref realtimev1.SecretKeySelector, reason realtimev1.ConditionReason) ([]byte, error) {
	s := &corev1.Secret{}
	err := r.secrets().get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, s)
	switch {
	case apierrors.IsNotFound(err):
		return nil, specErrorf(reason, "Secret %q not found", ref.Name)
	case err != nil:
		return nil, fmt.Errorf("get secret %s: %w", ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		return nil, specErrorf(reason, "Secret %q has no key %q", ref.Name, ref.Key)
	}
	return v, nil
}

// ensureGeneratedSecret creates "<cluster>-cluster-secret" once. It is created, never applied:
// the value must survive every later reconcile. Deleting it generates a new one (rotation).
func (r *RealtimeClusterReconciler) ensureGeneratedSecret(ctx context.Context, c *realtimev1.RealtimeCluster) error {
	name := c.GeneratedClusterSecretName()
	existing := &corev1.Secret{}
	err := r.secrets().get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, existing)
	if err == nil {
		if !metav1.IsControlledBy(existing, c) {
			return specErrorf(realtimev1.ReasonNameConflict,
				"Secret %q exists and is not owned by this RealtimeCluster: set spec.clusterSecretRef to use it, or delete it", name)
		}
		return nil
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("get secret %s: %w", name, err)
	}
	raw := make([]byte, generatedSecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("generate cluster secret: %w", err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: withWatched(withManagedBy(c.ClusterLabels()))},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{realtimev1.ClusterSecretKey: []byte(base64.RawURLEncoding.EncodeToString(raw))},
	}
	if err := controllerutil.SetControllerReference(c, s, r.Scheme); err != nil {
		return fmt.Errorf("owner reference on secret %s: %w", name, err)
	}
	if err := r.Create(ctx, s); apierrors.IsAlreadyExists(err) {
		return nil // created by an earlier reconcile the cache has not seen yet
	} else if err != nil {
		return fmt.Errorf("create secret %s: %w", name, err)
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "SecretGenerated", "Apply",
		"Generated the inter-node secret in Secret %s (key %s)", name, realtimev1.ClusterSecretKey)
	return nil
}

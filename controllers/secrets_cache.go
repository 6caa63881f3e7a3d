package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// WatchedSecretLabel marks the Secrets the operator reads: the cache (CacheOptions) holds only
// Secrets with this label, not every Secret of the watched namespaces. The operator sets it on
// a Secret the first time a RealtimeCluster or Tenant references it (the Secret's data is not
// changed), and on the Secrets it generates; from then on the Secret's changes (rotation)
// reach the watches.
const WatchedSecretLabel = "realtime.realtimeops.io/watched"

// missingSecretRecheck is how soon a reconcile that found a referenced Secret missing looks
// again: a new Secret carries no label yet, so no watch event announces it.
const missingSecretRecheck = 10 * time.Second

// secretReader reads referenced Secrets: from the label-selected cache, else (a Secret not
// labelled yet) directly from the API server, labelling it so it is cached from then on.
type secretReader struct {
	cached client.Client
	// direct reads around the cache (manager.GetAPIReader); nil reads the cache only.
	direct client.Reader
}

func (s secretReader) get(ctx context.Context, key client.ObjectKey, out *corev1.Secret) error {
	err := s.cached.Get(ctx, key, out)
	if !apierrors.IsNotFound(err) || s.direct == nil {
		return err
	}
	if err := s.direct.Get(ctx, key, out); err != nil {
		return err
	}
	if out.Labels[WatchedSecretLabel] == "true" {
		return nil // labelled already; the cache has not caught up yet
	}
	base := out.DeepCopy()
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	out.Labels[WatchedSecretLabel] = "true"
	if err := s.cached.Patch(ctx, out, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("label secret %s %s: %w", key.Name, WatchedSecretLabel, err)
	}
	return nil
}

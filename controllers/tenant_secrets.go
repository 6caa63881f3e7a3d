package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// resolveSecrets checks that every referenced Secret and key exists (values are never read
// here, copied or logged) and sets SecretsResolved, with an event when it changes.
func (r *TenantReconciler) resolveSecrets(ctx context.Context, t *realtimev1.Tenant, st *realtimev1.TenantStatus) (bool, error) {
	var problems []string
	reason := realtimev1.ReasonResolved
	for _, ref := range t.SecretRefs() {
		s := &corev1.Secret{}
		err := r.secrets().get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: ref.Name}, s)
		switch {
		case apierrors.IsNotFound(err):
			problems = append(problems, fmt.Sprintf("Secret %q not found", ref.Name))
			reason = realtimev1.ReasonSecretMissing
		case err != nil:
			return false, fmt.Errorf("get secret %s: %w", ref.Name, err)
		default:
			if _, ok := s.Data[ref.Key]; !ok {
				problems = append(problems, fmt.Sprintf("Secret %q has no key %q", ref.Name, ref.Key))
				if reason == realtimev1.ReasonResolved {
					reason = realtimev1.ReasonSecretKeyMissing
				}
			}
		}
	}
	ok := len(problems) == 0
	msg := "all referenced Secrets and keys exist"
	if !ok {
		msg = strings.Join(problems, "; ")
	}
	if setCondition(st, t.Generation, realtimev1.TenantSecretsResolved, ok, reason, msg) {
		if ok {
			r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, string(reason), "ResolveSecrets", "%s", msg)
		} else {
			r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, string(reason), "ResolveSecrets", "%s", msg)
		}
	}
	return ok, nil
}

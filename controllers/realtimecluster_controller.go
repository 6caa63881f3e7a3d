package controllers

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// RealtimeClusterReconciler turns a RealtimeCluster into per-region StatefulSets, PDBs,
// Services and node RBAC, and reports node readiness in its status.
type RealtimeClusterReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// NodeImage is the node image of clusters without spec.image (DefaultNodeImage when empty).
	NodeImage string
	// APIReader reads Secrets the label-selected cache does not hold yet (see TenantReconciler).
	APIReader client.Reader
}

func (r *RealtimeClusterReconciler) secrets() secretReader {
	return secretReader{cached: r.Client, direct: r.APIReader}
}

// Reconcile is guard clauses plus an ordered list of small steps. A failing step is reported in
// the Ready condition and in a warning event, then retried (API errors) or left until the
// watched input changes (specErrors: a missing Secret key, a name owned by another object; the
// later steps still run, so one bad region or a late Secret does not hold the rest back).
func (r *RealtimeClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logr.FromContextOrDiscard(ctx)
	cluster := &realtimev1.RealtimeCluster{}
	if err := r.Get(ctx, req.NamespacedName, cluster); err != nil {
		if apierrors.IsNotFound(err) {
			metricClusterPods.DeletePartialMatch(prometheus.Labels{"namespace": req.Namespace, "cluster": req.Name})
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cluster.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // children carry owner references: the garbage collector removes them
	}
	image := r.NodeImage
	if image == "" {
		image = realtimev1.DefaultNodeImage()
	}
	cluster.DefaultWithImage(image)

	var secretsHash string
	steps := []struct {
		name string
		run  func(context.Context, *realtimev1.RealtimeCluster) error
	}{
		// The nodes refuse to start without the inter-node secret, and a missing key would leave
		// the pods in CreateContainerConfigError: check (or generate) before creating pods.
		{"secrets", func(ctx context.Context, c *realtimev1.RealtimeCluster) (err error) {
			secretsHash, err = r.reconcileSecrets(ctx, c)
			return err
		}},
		// The pods run as this ServiceAccount: it must exist before the StatefulSets create pods.
		{"node RBAC", r.reconcileNodeRBAC},
		// The StatefulSets name the headless Service as their serviceName (pod DNS).
		{"services", r.reconcileServices},
		// Before the pods: who may reach the client, inter-node and admin ports.
		{"network policy", r.reconcileNetworkPolicy},
		// One StatefulSet + PDB per region, pinned to the region.
		{"regions", func(ctx context.Context, c *realtimev1.RealtimeCluster) error {
			return r.reconcileRegions(ctx, c, secretsHash)
		}},
		// Regions removed from the spec lose their StatefulSet and PDB.
		{"prune regions", r.pruneRegions},
	}
	var problem error // the first specError: reported, but the other steps still run
	for _, s := range steps {
		err := s.run(ctx, cluster)
		if err == nil {
			continue
		}
		err = fmt.Errorf("%s: %w", s.name, err)
		reason, userError := failureReason(err)
		log.Error(err, "reconcile step failed", "step", s.name)
		r.Recorder.Eventf(cluster, nil, corev1.EventTypeWarning, string(reason), "Reconcile", "%v", err)
		if userError {
			// Pods can wait for a Secret (the kubelet retries), so the children are still
			// applied; the Secret and owned-object watches bring the cluster back when it changes.
			if problem == nil {
				problem = err
			}
			continue
		}
		if serr := r.updateStatus(ctx, cluster, err); serr != nil {
			log.Error(serr, "status update after a failed step")
		}
		return ctrl.Result{}, err
	}
	if problem != nil {
		// A missing Secret appears without the watched label: no watch event announces it.
		return ctrl.Result{RequeueAfter: missingSecretRecheck}, r.updateStatus(ctx, cluster, problem)
	}
	return ctrl.Result{}, r.updateStatus(ctx, cluster, problem)
}

func (r *RealtimeClusterReconciler) reconcileNodeRBAC(ctx context.Context, c *realtimev1.RealtimeCluster) error {
	for _, obj := range []client.Object{buildNodeServiceAccount(c), buildNodeRole(c), buildNodeRoleBinding(c)} {
		if err := r.applyChild(ctx, c, obj); err != nil {
			return err
		}
	}
	return nil
}

func (r *RealtimeClusterReconciler) reconcileServices(ctx context.Context, c *realtimev1.RealtimeCluster) error {
	for _, obj := range []client.Object{buildHeadlessService(c), buildClientService(c)} {
		if err := r.applyChild(ctx, c, obj); err != nil {
			return err
		}
	}
	return nil
}

// applyChild applies one owned object and emits an event when it was created or changed.
func (r *RealtimeClusterReconciler) applyChild(ctx context.Context, c *realtimev1.RealtimeCluster, obj client.Object) error {
	res, err := applyOwned(ctx, r.Client, r.Scheme, c, obj)
	if err != nil {
		return err
	}
	if res != applyUnchanged {
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		logr.FromContextOrDiscard(ctx).Info(string(res), "kind", kind, "name", obj.GetName())
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, string(res), "Apply", "%s %s %s", string(res), kind, obj.GetName())
	}
	return nil
}

// SetupWithManager watches the cluster, everything it owns, and its node pods (status).
func (r *RealtimeClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&realtimev1.RealtimeCluster{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&corev1.Secret{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToCluster)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretToClusters)).
		Named("realtimecluster").
		Complete(r)
}

// podToCluster maps a node pod to its RealtimeCluster by label.
func podToCluster(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[realtimev1.ClusterLabel]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
}

// secretToClusters maps a Secret to the clusters of its namespace that reference it.
func (r *RealtimeClusterReconciler) secretToClusters(ctx context.Context, obj client.Object) []reconcile.Request {
	var list realtimev1.RealtimeClusterList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "list clusters for a secret")
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		c := &list.Items[i]
		refs := []string{c.ClusterSecret().Name}
		if c.Spec.TLS != nil {
			refs = append(refs, c.Spec.TLS.SecretRef.Name)
		}
		if p := c.Spec.Discovery.Postgres; p != nil {
			refs = append(refs, p.SecretRef.Name)
		}
		if slices.Contains(refs, obj.GetName()) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)})
		}
	}
	return reqs
}

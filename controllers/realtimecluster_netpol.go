package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// defaultMonitoringNamespace may reach the admin port when no selector is given.
const defaultMonitoringNamespace = "monitoring"

// buildNetworkPolicy admits, on the node pods: the client port from anywhere (clients, ingress
// controllers, load balancers), the inter-node port only from the node pods of this cluster, and
// the admin port only from the monitoring namespaces. Only ingress is restricted; probes and
// preStop hooks come from the kubelet on the node, which NetworkPolicy implementations allow.
func buildNetworkPolicy(c *realtimev1.RealtimeCluster) *networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	port := func(name string) []networkingv1.NetworkPolicyPort {
		return []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr(intstr.FromString(name))}}
	}
	monitoring := &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: defaultMonitoringNamespace}}
	if np := c.Spec.NetworkPolicy; np != nil && np.MonitoringNamespaceSelector != nil {
		monitoring = np.MonitoringNamespaceSelector
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.Name, Namespace: c.Namespace, Labels: withManagedBy(c.ClusterLabels()),
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: c.ClusterLabels()},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: port(httpPortName)},
				{Ports: port(clusterPortName), From: []networkingv1.NetworkPolicyPeer{{
					PodSelector: &metav1.LabelSelector{MatchLabels: c.ClusterLabels()},
				}}},
				{Ports: port(adminPortName), From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: monitoring}}},
			},
		},
	}
}

// reconcileNetworkPolicy applies the NetworkPolicy when enabled and deletes ours when not.
func (r *RealtimeClusterReconciler) reconcileNetworkPolicy(ctx context.Context, c *realtimev1.RealtimeCluster) error {
	if np := c.Spec.NetworkPolicy; np != nil && np.Enabled {
		return r.applyChild(ctx, c, buildNetworkPolicy(c))
	}
	existing := &networkingv1.NetworkPolicy{}
	err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.Name}, existing)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("get networkpolicy: %w", err)
	}
	if !metav1.IsControlledBy(existing, c) {
		return nil
	}
	if err := r.Delete(ctx, existing); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete networkpolicy %s: %w", existing.Name, err)
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "Deleted", "Prune", "Deleted NetworkPolicy %s (spec.networkPolicy disabled)", existing.Name)
	return nil
}

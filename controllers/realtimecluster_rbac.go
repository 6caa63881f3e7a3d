package controllers

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func buildNodeServiceAccount(c *realtimev1.RealtimeCluster) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.NodeServiceAccountName(), Namespace: c.Namespace, Labels: withManagedBy(c.ClusterLabels()),
		},
	}
}

// buildNodeRole grants the node pods exactly what they need, in their namespace only: read
// Tenants (the Kubernetes tenant source, assignments in status) and the Secrets they reference
// (Secrets cannot be narrowed by name for list/watch), and hold their per-tenant Leases.
func buildNodeRole(c *realtimev1.RealtimeCluster) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.NodeServiceAccountName(), Namespace: c.Namespace, Labels: withManagedBy(c.ClusterLabels()),
		},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{realtimev1.GroupVersion.Group}, Resources: []string{"tenants"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		},
	}
}

func buildNodeRoleBinding(c *realtimev1.RealtimeCluster) *rbacv1.RoleBinding {
	name := c.NodeServiceAccountName()
	return &rbacv1.RoleBinding{
		TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: c.Namespace, Labels: withManagedBy(c.ClusterLabels()),
		},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: c.Namespace}},
	}
}

package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func TestBuildNetworkPolicy(t *testing.T) {
	rules := func(np *networkingv1.NetworkPolicy) map[string]networkingv1.NetworkPolicyIngressRule {
		m := map[string]networkingv1.NetworkPolicyIngressRule{}
		for _, r := range np.Spec.Ingress {
			m[r.Ports[0].Port.StrVal] = r
		}
		return m
	}
	c := builderCluster(func(c *realtimev1.RealtimeCluster) {
		c.Spec.NetworkPolicy = &realtimev1.NetworkPolicySpec{Enabled: true}
	})
	np := buildNetworkPolicy(c)
	r := rules(np)
	if len(r) != 3 || len(r[httpPortName].From) != 0 {
		t.Fatalf("client port must be open to all: %+v", np.Spec.Ingress)
	}
	if from := r[clusterPortName].From; len(from) != 1 || from[0].PodSelector.MatchLabels[realtimev1.ClusterLabel] != "rt" || from[0].NamespaceSelector != nil {
		t.Errorf("mesh port: %+v", from)
	}
	if from := r[adminPortName].From; len(from) != 1 || from[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
		t.Errorf("admin port: %+v", from)
	}
	if np.Spec.PodSelector.MatchLabels[realtimev1.ClusterLabel] != "rt" || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("spec %+v", np.Spec)
	}
	c.Spec.NetworkPolicy.MonitoringNamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "obs"}}
	if from := rules(buildNetworkPolicy(c))[adminPortName].From; from[0].NamespaceSelector.MatchLabels["team"] != "obs" {
		t.Errorf("custom monitoring selector: %+v", from)
	}
}

// The NetworkPolicy exists while enabled and is removed when disabled.
func TestClusterNetworkPolicy(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createClusterSecret(t, ns)
	c := twoRegionCluster(ns, "np", 2)
	c.Spec.NetworkPolicy = &realtimev1.NetworkPolicySpec{Enabled: true}
	mustCreate(t, c)
	np := &networkingv1.NetworkPolicy{}
	checkFor(t, 20*time.Second, func() error { return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "np"}, np) })
	assertOwnedBy(t, np, c)
	checkFor(t, 10*time.Second, func() error {
		cur := &realtimev1.RealtimeCluster{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(c), cur); err != nil {
			return err
		}
		cur.Spec.NetworkPolicy.Enabled = false
		return testClient.Update(ctx, cur)
	})
	checkFor(t, 20*time.Second, func() error {
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(np), &networkingv1.NetworkPolicy{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("networkpolicy still there (%v)", err)
		}
		return nil
	})
}

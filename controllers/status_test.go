package controllers

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/tenantlease"
)

func pod(name, region string, ready bool) corev1.Pod {
	s := corev1.ConditionFalse
	if ready {
		s = corev1.ConditionTrue
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{realtimev1.RegionLabel: region}},
		Status:     corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: s}}},
	}
}

func rolled(gen int64, n int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Generation: gen},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: gen, UpdatedReplicas: n, CurrentRevision: "a", UpdateRevision: "a"}}
}

func TestComputeClusterStatus(t *testing.T) {
	c := builderCluster(func(c *realtimev1.RealtimeCluster) {
		c.Spec.Regions = []realtimev1.RegionSpec{{Name: "eu", Replicas: 2}, {Name: "us", Replicas: 2}}
		c.Generation = 4
	})
	tests := []struct {
		name                     string
		pods                     []corev1.Pod
		sets                     map[string]*appsv1.StatefulSet
		nodes, phase             string
		ready, degraded, rolling bool
		degradedReason           realtimev1.ConditionReason
	}{
		{"all ready", []corev1.Pod{pod("eu-0", "eu", true), pod("eu-1", "eu", true), pod("us-0", "us", true), pod("us-1", "us", true)},
			map[string]*appsv1.StatefulSet{"eu": rolled(1, 2), "us": rolled(1, 2)}, "4/4", "Ready", true, false, false, realtimev1.ReasonAsExpected},
		{"settled region short", []corev1.Pod{pod("eu-0", "eu", true), pod("eu-1", "eu", false), pod("us-0", "us", true), pod("us-1", "us", true)},
			map[string]*appsv1.StatefulSet{"eu": rolled(1, 2), "us": rolled(1, 2)}, "3/4", "Degraded", false, true, false, realtimev1.ReasonNodesUnavailable},
		{"settled region empty", []corev1.Pod{pod("us-0", "us", true), pod("us-1", "us", true), pod("x-0", "gone", true)},
			map[string]*appsv1.StatefulSet{"eu": rolled(1, 2), "us": rolled(1, 2)}, "2/4", "Degraded", false, true, false, realtimev1.ReasonRegionUnavailable},
		{"rolling out", []corev1.Pod{pod("us-0", "us", true)},
			map[string]*appsv1.StatefulSet{"eu": rolled(1, 0), "us": nil}, "1/4", "Progressing", false, false, true, realtimev1.ReasonAsExpected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := computeClusterStatus(c, tt.pods, tt.sets)
			if st.Nodes != tt.nodes || st.Phase != tt.phase || st.ObservedGeneration != 4 {
				t.Fatalf("nodes %s phase %s gen %d", st.Nodes, st.Phase, st.ObservedGeneration)
			}
			if meta.IsStatusConditionTrue(st.Conditions, "Ready") != tt.ready ||
				meta.IsStatusConditionTrue(st.Conditions, "Degraded") != tt.degraded ||
				meta.IsStatusConditionTrue(st.Conditions, "Progressing") != tt.rolling {
				t.Fatalf("conditions %+v", st.Conditions)
			}
			if r := meta.FindStatusCondition(st.Conditions, "Degraded").Reason; r != string(tt.degradedReason) {
				t.Fatalf("degraded reason %s", r)
			}
			for _, cond := range st.Conditions {
				if cond.ObservedGeneration != 4 {
					t.Fatalf("condition %s without observedGeneration", cond.Type)
				}
			}
		})
	}
}

func TestViewLeaseAndCandidates(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(holder string, renewedAgo time.Duration, dur int32) *coordinationv1.Lease {
		rt := metav1.NewMicroTime(now.Add(-renewedAgo))
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &rt, LeaseDurationSeconds: &dur}}
	}
	inEpoch := func(l *coordinationv1.Lease, e int32) *coordinationv1.Lease {
		l.Annotations = map[string]string{tenantlease.EpochAnnotation: tenantlease.FormatEpoch(e)}
		return l
	}
	nodeLease := func(holder string, renewedAgo time.Duration, e int32) *coordinationv1.Lease {
		l := lease(holder, renewedAgo, 15)
		l.Name, l.Spec.LeaseTransitions = tenantlease.NodeLeaseName(holder), &e
		l.Spec.AcquireTime = l.Spec.RenewTime
		return l
	}
	pods := []corev1.Pod{pod("a", "eu", true), pod("b", "eu", true), pod("c", "eu", false)}
	tests := []struct {
		name      string
		lease     *coordinationv1.Lease
		node      *coordinationv1.Lease
		delay     time.Duration
		wantReady map[string]bool
		wantWhy   string
	}{
		{"no lease", nil, nil, 0, map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"valid lease", lease("a", 5*time.Second, 15), nil, 0, map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"expired lease fences holder", lease("a", 20*time.Second, 15), nil, 0, map[string]bool{"a": false, "b": true, "c": false}, realtimev1.MoveLeaseExpired},
		{"failover delay postpones", lease("a", 20*time.Second, 15), nil, 10 * time.Second, map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"empty holder fences nobody", lease("", time.Hour, 15), nil, 0, map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"node lease of the same epoch keeps an old tenant lease", inEpoch(lease("a", time.Hour, 15), 1), nodeLease("a", 2*time.Second, 1), 0,
			map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"node lease of a newer epoch fences", inEpoch(lease("a", time.Second, 15), 1), nodeLease("a", 2*time.Second, 2), 0,
			map[string]bool{"a": false, "b": true, "c": false}, realtimev1.MoveLeaseExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := viewLease(tt.lease, tt.node, tt.delay)
			cands, why := placementCandidates(pods, nil, v, ok, now)
			for _, n := range cands {
				if n.Ready != tt.wantReady[n.Name] {
					t.Errorf("%s ready=%v", n.Name, n.Ready)
				}
			}
			if why["a"].Reason != tt.wantWhy {
				t.Errorf("why a = %q, want %q", why["a"].Reason, tt.wantWhy)
			}
			if why["c"].Reason != realtimev1.MoveOwnerNotReady {
				t.Errorf("why c = %q", why["c"].Reason)
			}
		})
	}
}

func TestPlacementIneligibility(t *testing.T) {
	base := pod("p", "eu", true)
	del := base.DeepCopy()
	now := metav1.Now()
	del.DeletionTimestamp, del.DeletionGracePeriodSeconds = &now, ptr(int64(30))
	drain := base.DeepCopy()
	drain.Annotations = map[string]string{realtimev1.DrainingAnnotation: "true"}
	noRegion := base.DeepCopy()
	noRegion.Labels = nil
	cordoned := &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: true}}
	tests := []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		want string
	}{
		{"ready", &base, nil, ""},
		{"terminating", del, nil, realtimev1.MoveOwnerDeleted},
		{"draining", drain, nil, realtimev1.MoveOwnerDraining},
		{"cordoned", &base, cordoned, realtimev1.MoveNodeUnschedulable},
		{"no region", noRegion, nil, "NoRegion"},
	}
	for _, tt := range tests {
		if got := placementIneligibility(tt.pod, tt.node); got.Reason != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got.Reason, tt.want)
		}
	}
	if got := placementIneligibility(del, nil); !got.Since.Equal(now.Add(-30 * time.Second)) {
		t.Errorf("deletion since %s, want deletion request time", got.Since)
	}
}

// TestLeaseChanged: routine renewals are filtered out of the watch, but a renewal of an expired
// Lease passes, so a holder fenced into "no ready node" gets its tenant back without a poll.
func TestLeaseChanged(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(holder string, renewed time.Time, dur int32) *coordinationv1.Lease {
		rt := metav1.NewMicroTime(renewed)
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &rt, LeaseDurationSeconds: &dur}}
	}
	tests := []struct {
		name     string
		old, new *coordinationv1.Lease
		want     bool
	}{
		{"routine renewal", lease("a", at, 15), lease("a", at.Add(5*time.Second), 15), false},
		{"renewal at expiry", lease("a", at, 15), lease("a", at.Add(15*time.Second), 15), false},
		{"renewal after expiry", lease("a", at, 15), lease("a", at.Add(16*time.Second), 15), true},
		{"holder change", lease("a", at, 15), lease("b", at.Add(time.Second), 15), true},
		{"release", lease("a", at, 15), lease("", at.Add(time.Second), 15), true},
		{"duration change", lease("a", at, 15), lease("a", at, 30), true},
		{"free lease renewed", lease("", at, 15), lease("", at.Add(time.Hour), 15), false},
	}
	for _, tt := range tests {
		if got := leaseChanged(tt.old, tt.new); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The operator's cache holds only node pods and tenant Leases (cluster label), not every pod and
// kubelet node Lease of the cluster.
func TestCacheOptionsSelectOurObjects(t *testing.T) {
	o := CacheOptions("a, b")
	found := map[string]bool{}
	for obj, by := range o.ByObject {
		kind := fmt.Sprintf("%T", obj)
		want := realtimev1.ClusterLabel
		if kind == "*v1.Secret" {
			want = WatchedSecretLabel + "=true"
		}
		if by.Label == nil || by.Label.String() != want {
			t.Errorf("%s cache selector %v", kind, by.Label)
		}
		found[kind] = true
	}
	if !found["*v1.Pod"] || !found["*v1.Lease"] || !found["*v1.Secret"] {
		t.Errorf("selected kinds %v", found)
	}
	if len(o.DefaultNamespaces) != 2 {
		t.Errorf("namespaces %v", o.DefaultNamespaces)
	}
}

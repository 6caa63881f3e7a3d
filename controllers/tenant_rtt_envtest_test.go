package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/node/rtt"
)

// publishRTT writes pod's RTT Lease as node/tenant/kube.RTTPublisher does: figures by endpoint.
func publishRTT(t *testing.T, ns, cluster, pod string, figs map[string]float64) {
	t.Helper()
	ctx := context.Background()
	doc := rtt.Published{}
	for ep, ms := range figs {
		doc[ep] = rtt.PublishedFigure{Ms: ms, At: time.Now().UTC().Truncate(time.Second)}
	}
	l := &coordinationv1.Lease{}
	err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: realtimev1.RTTLeasePrefix + pod}, l)
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: realtimev1.RTTLeasePrefix + pod,
			Labels: nodeLeaseLabels(cluster), Annotations: map[string]string{realtimev1.RTTAnnotation: doc.Encode()}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &pod}}
		mustCreate(t, l)
		return
	}
	if err != nil {
		t.Fatalf("get RTT lease: %v", err)
	}
	l.Annotations[realtimev1.RTTAnnotation] = doc.Encode()
	if err := testClient.Update(ctx, l); err != nil {
		t.Fatalf("update RTT lease of %s: %v", pod, err)
	}
}

func ownedBy(check func(*realtimev1.ReplicationStatus) error) func(*realtimev1.Tenant) error {
	return func(tn *realtimev1.Tenant) error {
		if tn.Status.Replication == nil || tn.Status.Replication.Node == "" {
			return fmt.Errorf("not assigned: %+v", tn.Status.Replication)
		}
		return check(tn.Status.Replication)
	}
}

// TestTenantPlacementByMeasuredRTT: an unlabelled database is placed on the pod with the lowest
// published RTT, with the RTT column and the table by region in status; a significant RTT rise
// of the owner moves the tenant (LowerRTT in status, the move record and an event); a 2 ms rise
// inside the margin does not; a labelled database leaves its region when that region's RTT is
// worse than another's by more than the margin.
func TestTenantPlacementByMeasuredRTT(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	for _, p := range []struct{ region, name string }{
		{"eu-west", "rt-eu-west-0"}, {"eu-west", "rt-eu-west-1"}, {"us-east", "rt-us-east-0"}, {"us-east", "rt-us-east-1"},
	} {
		createNodePod(t, ns, "rt", p.region, p.name, true)
	}
	tn := testTenant(ns, "unlabelled", "rt", "x")
	tn.Spec.Database.Region, tn.Spec.Database.Host = "", "db.us.example"
	labelled := testTenant(ns, "labelled", "rt", "eu-west")
	labelled.Spec.Database.Host = "db.eu.example"
	us, eu := rtt.Endpoint("db.us.example", 1), rtt.Endpoint("db.eu.example", 1)
	publishRTT(t, ns, "rt", "rt-eu-west-0", map[string]float64{us: 80, eu: 0.3})
	publishRTT(t, ns, "rt", "rt-eu-west-1", map[string]float64{us: 81, eu: 0.4})
	publishRTT(t, ns, "rt", "rt-us-east-0", map[string]float64{us: 0.4, eu: 40})
	publishRTT(t, ns, "rt", "rt-us-east-1", map[string]float64{us: 0.5, eu: 41})
	mustCreate(t, tn)
	mustCreate(t, labelled)

	cur := waitTenant(t, tn, ownedBy(func(r *realtimev1.ReplicationStatus) error {
		if r.Region != "us-east" || r.Reason != "LowestRTT" || r.RTT == "" || len(r.RTTByRegion) != 2 {
			return fmt.Errorf("replication %+v, want us-east by LowestRTT with its RTT and a 2-row table", r)
		}
		return nil
	}))
	rows := cur.Status.Replication.RTTByRegion
	if rows[0].Region != "eu-west" || rows[0].Node != "rt-eu-west-0" || rows[0].RTT != "80ms" ||
		rows[1].Region != "us-east" || rows[1].Node != "rt-us-east-0" || rows[1].RTT != "0.4ms" || rows[1].MeasuredAt == nil {
		t.Fatalf("RTT table %+v", rows)
	}
	owner := cur.Status.Replication.Node
	other := map[string]string{"rt-us-east-0": "rt-us-east-1", "rt-us-east-1": "rt-us-east-0"}[owner]
	want := "LowerRTT from 120 ms to " + map[string]string{"rt-us-east-0": "0.4", "rt-us-east-1": "0.5"}[other] + " ms"
	waitTenant(t, labelled, ownedBy(func(r *realtimev1.ReplicationStatus) error {
		if r.Region != "eu-west" || r.Reason != "SameRegion" {
			return fmt.Errorf("labelled: %+v, want eu-west SameRegion", r)
		}
		return nil
	}))

	// 2 ms more on the owner: inside the 5 ms margin and under the 10 ms gain, no move.
	publishRTT(t, ns, "rt", owner, map[string]float64{us: 2.5, eu: 40})
	waitTenant(t, tn, ownedBy(func(r *realtimev1.ReplicationStatus) error {
		if r.RTT != "2.5ms" {
			return fmt.Errorf("owner RTT %q, want the new 2.5ms", r.RTT)
		}
		if r.Node != owner {
			return fmt.Errorf("a 2 ms rise moved the tenant from %s to %s", owner, r.Node)
		}
		return nil
	}))

	// 120 ms on the owner: the other us pod is significantly better.
	publishRTT(t, ns, "rt", owner, map[string]float64{us: 120, eu: 40})
	waitTenant(t, tn, ownedBy(func(r *realtimev1.ReplicationStatus) error {
		if r.Node != other || r.Reason != realtimev1.MoveLowerRTT || r.LastMove == nil ||
			r.LastMove.Reason != realtimev1.MoveLowerRTT || r.LastMove.Message != want {
			return fmt.Errorf("replication %+v lastMove %+v, want %s by %s", r, r.LastMove, other, want)
		}
		return nil
	}))
	checkFor(t, 10*time.Second, func() error { return findEventMessage(ctx, ns, "unlabelled", want) })

	// The labelled database's region gets 90 ms on both pods: us-east (40 ms) is better by more
	// than the margin and by a significant gain, so the tenant leaves its labelled region.
	publishRTT(t, ns, "rt", "rt-eu-west-0", map[string]float64{us: 80, eu: 90})
	publishRTT(t, ns, "rt", "rt-eu-west-1", map[string]float64{us: 81, eu: 91})
	waitTenant(t, labelled, ownedBy(func(r *realtimev1.ReplicationStatus) error {
		if r.Region != "us-east" || r.Reason != realtimev1.MoveLowerRTT || r.LastMove == nil || !strings.HasPrefix(r.LastMove.Message, "LowerRTT from 9") {
			return fmt.Errorf("labelled: %+v lastMove %+v, want a LowerRTT move to us-east", r, r.LastMove)
		}
		return nil
	}))
}

func findEventMessage(ctx context.Context, ns, name, text string) error {
	var list corev1.EventList
	if err := testClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && strings.Contains(e.Message, text) {
			return nil
		}
	}
	return fmt.Errorf("no event of %s saying %q", name, text)
}

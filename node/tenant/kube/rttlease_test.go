package kube

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/realtimeops/realtime/node/rtt"
)

// TestRTTPublisherWritesOnlyChanges: the pod's RTT Lease is created on the first round, left
// alone while the settled figures stay the same, and updated when one changes.
func TestRTTPublisherWritesOnlyChanges(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	p := &RTTPublisher{Client: kubeCS, Namespace: ns, Pod: "rt-eu-0", Labels: map[string]string{ClusterLabel: "rt"}}
	at := time.Now()
	get := func() (string, string) {
		l, err := kubeCS.CoordinationV1().Leases(ns).Get(ctx, RTTLeasePrefix+"rt-eu-0", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get RTT lease: %v", err)
		}
		return l.ResourceVersion, l.Annotations[RTTAnnotation]
	}
	p.Publish(map[string]rtt.Figure{"db:5432": {Ms: 0.5, Settled: 0.4, Samples: 5, At: at}, "new:5432": {Ms: 3, Samples: 1}})
	rv1, doc := get()
	got, err := rtt.DecodePublished(doc)
	if err != nil || len(got) != 1 || got["db:5432"].Ms != 0.4 {
		t.Fatalf("published %q (%v), want only db:5432's settled 0.4", doc, err)
	}
	p.Publish(map[string]rtt.Figure{"db:5432": {Ms: 0.7, Settled: 0.4, Samples: 5, At: at.Add(time.Minute)}})
	if rv2, _ := get(); rv2 != rv1 {
		t.Fatalf("unchanged settled figures were written again (resourceVersion %s -> %s)", rv1, rv2)
	}
	p.Publish(map[string]rtt.Figure{"db:5432": {Ms: 120, Settled: 120, Samples: 5, At: at.Add(2 * time.Minute)}})
	rv3, doc := get()
	if got, _ := rtt.DecodePublished(doc); rv3 == rv1 || got["db:5432"].Ms != 120 {
		t.Fatalf("changed figure not written: rv %s, doc %s", rv3, doc)
	}
}

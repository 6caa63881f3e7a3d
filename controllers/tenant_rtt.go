package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/node/placement"
	"github.com/realtimeops/realtime/node/rtt"
)

// Measured round-trip times in placement. Each node pod publishes its settled RTT figures per
// database endpoint in its RTT Lease (v1alpha1.RTTLeasePrefix + pod, node/tenant/kube
// RTTPublisher); the Tenant controller reads those Leases from its cache with the pods, feeds
// the owner candidates' figures to placement.Policy.Place and writes the RTT table into status.

// rttEndpoint is the key the nodes publish t's database under.
func rttEndpoint(t *realtimev1.Tenant) string {
	if t.Spec.Database == nil {
		return ""
	}
	return rtt.Endpoint(t.Spec.Database.Host, int(t.Spec.Database.Port))
}

// rttOfPods returns each pod's published figure for endpoint (pods without one are absent).
func (r *TenantReconciler) rttOfPods(ctx context.Context, ns, endpoint string, pods []corev1.Pod) map[string]rtt.PublishedFigure {
	out := map[string]rtt.PublishedFigure{}
	if endpoint == "" {
		return out
	}
	for i := range pods {
		l := &coordinationv1.Lease{}
		if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: realtimev1.RTTLeasePrefix + pods[i].Name}, l); err != nil {
			continue // not published yet (or gone): placement treats the pod as unmeasured
		}
		doc, err := r.rttDocs.decode(l)
		if err != nil {
			logFrom(ctx).Error(err, "RTT Lease of a node pod", "lease", l.Name)
			continue
		}
		if f, ok := doc[endpoint]; ok && f.Ms > 0 {
			out[pods[i].Name] = f
		}
	}
	return out
}

// rttDocCache keeps each RTT Lease's decoded document for its resourceVersion: a pod's document
// holds every endpoint (~60 KB at 1,000 databases) and every tenant reconcile reads every pod's,
// so decoding it each time would cost pods x tenants decodes per cluster-wide event.
type rttDocCache struct {
	mu sync.Mutex
	m  map[string]cachedDoc
}

type cachedDoc struct {
	rv  string
	doc rtt.Published
}

func (c *rttDocCache) decode(l *coordinationv1.Lease) (rtt.Published, error) {
	key := l.Namespace + "/" + l.Name
	c.mu.Lock()
	if d, ok := c.m[key]; ok && d.rv == l.ResourceVersion && l.ResourceVersion != "" {
		c.mu.Unlock()
		return d.doc, nil
	}
	c.mu.Unlock()
	doc, err := rtt.DecodePublished(l.Annotations[realtimev1.RTTAnnotation])
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedDoc{}
	}
	c.m[key] = cachedDoc{rv: l.ResourceVersion, doc: doc} // one entry per pod; pods are few
	c.mu.Unlock()
	return doc, nil
}

// policyOf is the cluster's placement policy (spec.placement over placement.DefaultPolicy).
func policyOf(c *realtimev1.RealtimeCluster) placement.Policy {
	p := placement.DefaultPolicy
	if s := c.Spec.Placement; s != nil {
		if s.RTTMarginMs != nil {
			p.MarginMs = float64(*s.RTTMarginMs)
		}
		if s.RTTHold != nil {
			p.Hysteresis.Hold = s.RTTHold.Duration
		}
	}
	return p
}

// rttTable is, per region, the ready candidate with the lowest figure, sorted by region.
func rttTable(cands []placement.Node, figs map[string]rtt.PublishedFigure) []realtimev1.RegionRTT {
	best := map[string]placement.Node{}
	for _, n := range cands {
		if !n.Ready || n.RTTms <= 0 {
			continue
		}
		if b, ok := best[n.Region]; !ok || n.RTTms < b.RTTms {
			best[n.Region] = n
		}
	}
	out := make([]realtimev1.RegionRTT, 0, len(best))
	for region, n := range best {
		row := realtimev1.RegionRTT{Region: region, Node: n.Name, RTT: formatRTT(n.RTTms)}
		if f, ok := figs[n.Name]; ok && !f.At.IsZero() {
			row.MeasuredAt = ptr(metav1.NewTime(f.At))
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b realtimev1.RegionRTT) int {
		if a.Region < b.Region {
			return -1
		}
		if a.Region > b.Region {
			return 1
		}
		return 0
	})
	return out
}

// keepRTTTable returns old when next differs from it by no figure change of more than 2 ms and
// 20% (and the same regions and nodes), so noise never costs a status write per tenant.
func keepRTTTable(old, next []realtimev1.RegionRTT, figOf func(realtimev1.RegionRTT) float64) []realtimev1.RegionRTT {
	if len(old) != len(next) {
		return next
	}
	for i := range old {
		if old[i].Region != next[i].Region || old[i].Node != next[i].Node ||
			rtt.Changed(figOf(old[i]), figOf(next[i]), 2, 0.2) {
			return next
		}
	}
	return old
}

func formatRTT(ms float64) string { return placement.FormatMs(ms) + "ms" }

// parseRTT reads a formatted figure back (0 when unparsable).
func parseRTT(s string) float64 {
	var ms float64
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			s = s[:i]
			break
		}
	}
	if _, err := fmt.Sscan(s, &ms); err != nil {
		return 0
	}
	return ms
}

// rttLeaseHandler enqueues, for a changed RTT Lease, only the tenants whose endpoint's figure
// in it changed: one pod's write must not reconcile every tenant of the cluster.
func (r *TenantReconciler) rttLeaseHandler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.enqueueRTT(ctx, nil, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.enqueueRTT(ctx, e.ObjectOld, e.ObjectNew, q)
		},
	}
}

func (r *TenantReconciler) enqueueRTT(ctx context.Context, old, cur client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	name := cur.GetName()
	if len(name) <= len(realtimev1.RTTLeasePrefix) || name[:len(realtimev1.RTTLeasePrefix)] != realtimev1.RTTLeasePrefix {
		return
	}
	var before rtt.Published
	if old != nil {
		before, _ = rtt.DecodePublished(old.GetAnnotations()[realtimev1.RTTAnnotation])
	}
	after, err := rtt.DecodePublished(cur.GetAnnotations()[realtimev1.RTTAnnotation])
	if err != nil {
		return
	}
	changed := map[string]bool{}
	for ep, f := range after {
		if b, ok := before[ep]; !ok || b.Ms != f.Ms {
			changed[ep] = true
		}
	}
	for ep := range before {
		if _, ok := after[ep]; !ok {
			changed[ep] = true
		}
	}
	if len(changed) == 0 {
		return
	}
	var list realtimev1.TenantList
	if err := r.List(ctx, &list, client.InNamespace(cur.GetNamespace())); err != nil {
		logFrom(ctx).Error(err, "list tenants for an RTT Lease")
		return
	}
	for i := range list.Items {
		if changed[rttEndpoint(&list.Items[i])] {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
		}
	}
}

// pendingOf and pendingStatus convert the hysteresis state between status and placement.
func pendingOf(st *realtimev1.ReplicationStatus) placement.Pending {
	if st.PendingMove == nil {
		return placement.Pending{}
	}
	return placement.Pending{Node: st.PendingMove.To, Since: st.PendingMove.Since.Time}
}

func pendingStatus(p placement.Pending) *realtimev1.PendingMove {
	if p.Node == "" {
		return nil
	}
	return &realtimev1.PendingMove{To: p.Node, Since: metav1.NewTime(p.Since)}
}

// untilPending is when to look again for a pending move (0: none pending).
func untilPending(p placement.Pending, hold time.Duration, now time.Time) time.Duration {
	if p.Node == "" {
		return 0
	}
	if d := p.Since.Add(hold).Sub(now); d > 0 {
		return d + 100*time.Millisecond
	}
	return 100 * time.Millisecond
}

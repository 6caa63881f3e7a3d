package controllers

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/tenantlease"
	"github.com/realtimeops/realtime/node/placement"
)

// reconcilePlacement assigns the tenant's WAL work and returns when to look again (the owner's
// Lease expiry; 0 when only watched events can change the answer) and the owner's Lease.
func (r *TenantReconciler) reconcilePlacement(ctx context.Context, t *realtimev1.Tenant, cluster *realtimev1.RealtimeCluster, st *realtimev1.TenantStatus) (time.Duration, leaseHealth, error) {
	requeue, lh, err := r.place(ctx, t, cluster, st)
	if st.Replication != nil {
		lh.Owner = st.Replication.Node
	}
	return requeue, lh, err
}

func (r *TenantReconciler) place(ctx context.Context, t *realtimev1.Tenant, cluster *realtimev1.RealtimeCluster, st *realtimev1.TenantStatus) (time.Duration, leaseHealth, error) {
	var lh leaseHealth
	gen := t.Generation
	if !t.NeedsOwner() {
		reason, msg := realtimev1.ReasonNoDatabase, "tenant has no database: no WAL work to place"
		if t.Spec.Suspend {
			reason, msg = realtimev1.ReasonSuspended, "tenant is suspended: its WAL work is released"
		}
		if st.Replication != nil {
			st.Replication = &realtimev1.ReplicationStatus{LastMove: st.Replication.LastMove, Slot: st.Replication.Slot}
		}
		setCondition(st, gen, realtimev1.TenantAssigned, false, reason, msg)
		return 0, lh, nil
	}
	if cluster == nil {
		r.setAssigned(t, st, false, realtimev1.ReasonClusterNotFound,
			fmt.Sprintf("RealtimeCluster %q not found", t.Spec.ClusterRef.Name))
		return 0, lh, nil
	}
	in, err := r.placementInputs(ctx, t, cluster)
	if err != nil {
		return 0, lh, err
	}
	lh.Lease, lh.LeaseOK = in.lease, in.leaseOK
	now := r.now()
	cands, why := placementCandidates(in.pods, in.nodes, in.lease, in.leaseOK, now)
	figs := r.rttOfPods(ctx, t.Namespace, rttEndpoint(t), in.pods)
	for i := range cands {
		cands[i].RTTms = figs[cands[i].Name].Ms
	}
	if st.Replication == nil {
		st.Replication = &realtimev1.ReplicationStatus{}
	}
	current := st.Replication.Node
	policy := policyOf(cluster)
	out, ok := policy.Place(current, pendingOf(st.Replication), now, t.EffectiveExternalID(), t.DatabaseRegion(), cluster.Spec.RegionMapping, cands)
	d, requested, moveProblem := requestedOwner(t, cluster.Name, cands, why, out.Decision)
	ok = ok || requested
	if requested {
		out = placement.Outcome{Decision: d} // a requested move wins over any pending RTT move
	}
	if !ok {
		msg := fmt.Sprintf("no ready node pod in RealtimeCluster %q", cluster.Name)
		if current != "" {
			msg += fmt.Sprintf("; %s stays recorded until a pod is ready", current)
		}
		r.setAssigned(t, st, false, realtimev1.ReasonNoReadyNode, msg)
		return 0, lh, nil
	}
	reason := string(d.Reason)
	if d.Node != current {
		cause := moveCause(current, why, in.pods)
		switch {
		case requested:
			cause = ineligibility{Reason: realtimev1.MoveRequested}
		case out.LowerRTT:
			cause = ineligibility{Reason: realtimev1.MoveLowerRTT,
				Message: fmt.Sprintf("LowerRTT from %s ms to %s ms", placement.FormatMs(out.FromMs), placement.FormatMs(out.ToMs))}
			reason = realtimev1.MoveLowerRTT
		}
		r.recordMove(ctx, t, st, d, cause, now)
	} else if st.Replication.Reason == realtimev1.MoveLowerRTT {
		reason = realtimev1.MoveLowerRTT // why the current owner has the work, until the next move
	}
	st.Replication.Region, st.Replication.Reason = d.Region, reason
	st.Replication.PendingMove = pendingStatus(out.Pending)
	st.Replication.RTT = ""
	if d.RTTms > 0 {
		st.Replication.RTT = formatRTT(d.RTTms)
	}
	st.Replication.RTTByRegion = keepRTTTable(st.Replication.RTTByRegion, rttTable(cands, figs),
		func(row realtimev1.RegionRTT) float64 { return parseRTT(row.RTT) })
	switch {
	case requested:
		setCondition(st, gen, realtimev1.TenantAssigned, true, realtimev1.ReasonMoveRequested, assignedMessage(t, d))
	case moveProblem != "":
		msg := assignedMessage(t, d) + "; " + moveProblem
		if setCondition(st, gen, realtimev1.TenantAssigned, true, realtimev1.ReasonMoveTargetUnavailable, msg) {
			r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, string(realtimev1.ReasonMoveTargetUnavailable), "Place", "%s", moveProblem)
		}
	default:
		r.setAssigned(t, st, true, realtimev1.ConditionReason(d.Reason), assignedMessage(t, d))
	}
	requeue := untilPending(out.Pending, policy.Hysteresis.Hold, now)
	if in.leaseOK && in.lease.Holder == d.Node && now.Before(in.lease.ActAt) {
		// Nothing announces an expiry: look again just after it would fence the owner.
		if l := in.lease.ActAt.Sub(now) + 100*time.Millisecond; requeue == 0 || l < requeue {
			requeue = l
		}
	}
	return requeue, lh, nil
}

type placementInput struct {
	pods    []corev1.Pod
	nodes   map[string]*corev1.Node
	lease   leaseView
	leaseOK bool
}

// placementInputs reads the cluster's node pods, their Kubernetes nodes and the tenant's Lease.
func (r *TenantReconciler) placementInputs(ctx context.Context, t *realtimev1.Tenant, c *realtimev1.RealtimeCluster) (placementInput, error) {
	var in placementInput
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(t.Namespace), client.MatchingLabels{realtimev1.ClusterLabel: c.Name}); err != nil {
		return in, fmt.Errorf("list node pods: %w", err)
	}
	in.pods = pods.Items
	in.nodes = map[string]*corev1.Node{}
	for i := range pods.Items {
		name := pods.Items[i].Spec.NodeName
		if name == "" || in.nodes[name] != nil {
			continue
		}
		n := &corev1.Node{}
		if err := r.Get(ctx, client.ObjectKey{Name: name}, n); err == nil {
			in.nodes[name] = n
		} else if !apierrors.IsNotFound(err) {
			return in, fmt.Errorf("get node %s: %w", name, err)
		}
	}
	l := &coordinationv1.Lease{}
	err := r.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.LeaseName()}, l)
	switch {
	case err == nil:
		node, err := r.holderNodeLease(ctx, t.Namespace, l)
		if err != nil {
			return in, err
		}
		in.lease, in.leaseOK = viewLease(l, node, t.FailoverDelayDuration())
	case !apierrors.IsNotFound(err):
		return in, fmt.Errorf("get lease: %w", err)
	}
	return in, nil
}

// holderNodeLease is the node Lease of the tenant Lease's holder (nil when there is none or the
// tenant Lease does not use one).
func (r *TenantReconciler) holderNodeLease(ctx context.Context, ns string, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	holder := tenantlease.Holder(l)
	if _, ok := tenantlease.TenantEpoch(l); !ok || holder == "" {
		return nil, nil
	}
	node := &coordinationv1.Lease{}
	err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenantlease.NodeLeaseName(holder)}, node)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get node lease of %s: %w", holder, err)
	}
	return node, nil
}

// placementCandidates turns pods into placement nodes; why says why each ineligible pod is out.
func placementCandidates(pods []corev1.Pod, nodes map[string]*corev1.Node, lease leaseView, leaseOK bool, now time.Time) ([]placement.Node, map[string]ineligibility) {
	cands := make([]placement.Node, 0, len(pods))
	why := map[string]ineligibility{}
	for i := range pods {
		p := &pods[i]
		in := placementIneligibility(p, nodes[p.Spec.NodeName])
		if in.Reason == "" && leaseOK && lease.Holder == p.Name && lease.fences(now) {
			in = ineligibility{Reason: realtimev1.MoveLeaseExpired, Since: lease.Expired}
		}
		if in.Reason != "" {
			why[p.Name] = in
		}
		cands = append(cands, placement.Node{Name: p.Name, Region: p.Labels[realtimev1.RegionLabel], Ready: in.Reason == ""})
	}
	return cands, why
}

// moveCause explains why the owner changes from current.
func moveCause(current string, why map[string]ineligibility, pods []corev1.Pod) ineligibility {
	if current == "" {
		return ineligibility{Reason: realtimev1.MoveInitial}
	}
	if in, ok := why[current]; ok {
		return in
	}
	for i := range pods {
		if pods[i].Name == current {
			return ineligibility{Reason: realtimev1.MoveHomeRegionAvailable}
		}
	}
	return ineligibility{Reason: realtimev1.MoveOwnerGone}
}

func (r *TenantReconciler) recordMove(ctx context.Context, t *realtimev1.Tenant, st *realtimev1.TenantStatus, d placement.Decision, cause ineligibility, now time.Time) {
	from := st.Replication.Node
	move := &realtimev1.MoveRecord{From: from, To: d.Node, Reason: cause.Reason, Message: cause.Message, At: metav1.NewTime(now)}
	if !cause.Since.IsZero() && now.After(cause.Since) {
		move.Duration = &metav1.Duration{Duration: now.Sub(cause.Since).Round(time.Millisecond)}
	}
	st.Replication.Node, st.Replication.Since, st.Replication.LastMove = d.Node, ptr(metav1.NewTime(now)), move
	metricMoves.WithLabelValues(cause.Reason).Inc()
	if move.Duration != nil {
		metricMoveSeconds.Observe(move.Duration.Seconds())
	}
	logFrom(ctx).Info("tenant WAL work assigned", "tenant", t.Name, "from", from, "to", d.Node,
		"region", d.Region, "cause", cause.Reason, "placement", d.Reason)
	if from == "" {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Assigned", "Place",
			"WAL work assigned to %s in region %s (%s)", d.Node, d.Region, d.Reason)
		return
	}
	why := cause.Reason
	if cause.Message != "" {
		why = cause.Message
	}
	r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Moved", "Place",
		"WAL work moved from %s to %s in region %s: %s (%s)", from, d.Node, d.Region, why, d.Reason)
}

func (r *TenantReconciler) setAssigned(t *realtimev1.Tenant, st *realtimev1.TenantStatus, ok bool, reason realtimev1.ConditionReason, msg string) {
	if setCondition(st, t.Generation, realtimev1.TenantAssigned, ok, reason, msg) && !ok {
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, string(reason), "Place", "%s", msg)
	}
}

func assignedMessage(t *realtimev1.Tenant, d placement.Decision) string {
	db := t.DatabaseRegion()
	switch d.Reason {
	case requestedReason:
		return fmt.Sprintf("owned by %s in region %s, as requested by annotation %s", d.Node, d.Region, realtimev1.MoveToAnnotation)
	case placement.SameRegion:
		return fmt.Sprintf("owned by %s in the database's region %s", d.Node, d.Region)
	case placement.MappedRegion:
		return fmt.Sprintf("owned by %s in region %s, mapped from database region %s", d.Node, d.Region, db)
	case placement.LowestRTT:
		if db == "" {
			return fmt.Sprintf("owned by %s in region %s: lowest measured RTT (%s) to the unlabelled database", d.Node, d.Region, formatRTT(d.RTTms))
		}
		return fmt.Sprintf("owned by %s in region %s: lowest measured RTT (%s); database region %s has no ready node within the margin", d.Node, d.Region, formatRTT(d.RTTms), db)
	default:
		return fmt.Sprintf("fallback: owned by %s in region %s; no ready node in database region %q or its mapped region", d.Node, d.Region, db)
	}
}

package kube

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/realtimeops/realtime/node/rtt"
)

// The RTT contract with the operator: each node pod publishes its settled round-trip times to
// tenant databases in the Lease "rtt-<pod name>" of its namespace, annotation
// RTTAnnotation (v1alpha1.RTTAnnotation, JSON rtt.Published). It writes after a probe round only
// when a figure changed (settled figures change only on significant, sustained changes) or
// every RTTRefresh, so the write rate is bounded per pod, not per tenant: with 20 pods and
// 1,000 tenants at most 20 writes per probe interval (30 s), typically 20 per 10 minutes.
const (
	RTTLeasePrefix = "rtt-"
	RTTAnnotation  = "realtime.realtimeops.io/rtt"
	RTTRefresh     = 10 * time.Minute
)

// RTTPublisher writes one pod's RTT Lease.
type RTTPublisher struct {
	Client    kubernetes.Interface
	Namespace string
	Pod       string
	Labels    map[string]string
	Log       *slog.Logger

	mu        sync.Mutex
	last      rtt.Published
	lastWrite time.Time
}

// RTTPublisher returns the publisher of podName's figures, labelled with the cluster.
func (s *Source) RTTPublisher(client kubernetes.Interface, podName string) *RTTPublisher {
	return &RTTPublisher{Client: client, Namespace: s.cfg.Namespace, Pod: podName, Log: s.cfg.Log,
		Labels: map[string]string{ClusterLabel: s.cfg.ClusterName}}
}

// Publish is an rtt.Prober OnRound: it writes the Lease when the figures changed or are stale.
func (p *RTTPublisher) Publish(figs map[string]rtt.Figure) {
	doc := rtt.Publishable(figs)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.last != nil && rtt.SameFigures(p.last, doc) && now.Sub(p.lastWrite) < RTTRefresh {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.write(ctx, doc, now); err != nil {
		if p.Log != nil {
			p.Log.Warn("publish database RTT figures", "err", err)
		}
		return
	}
	p.last, p.lastWrite = doc, now
}

func (p *RTTPublisher) write(ctx context.Context, doc rtt.Published, now time.Time) error {
	leases := p.Client.CoordinationV1().Leases(p.Namespace)
	name := RTTLeasePrefix + p.Pod
	renew := metav1.NewMicroTime(now)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Namespace, Labels: p.Labels,
			Annotations: map[string]string{RTTAnnotation: doc.Encode()}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &p.Pod, RenewTime: &renew}}
		if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create lease %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("get lease %s: %w", name, err)
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[RTTAnnotation] = doc.Encode()
	l.Spec.HolderIdentity, l.Spec.RenewTime = &p.Pod, &renew
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update lease %s: %w", name, err)
	}
	return nil
}

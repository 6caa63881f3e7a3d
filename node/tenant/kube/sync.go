package kube

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/realtimeops/realtime/node/tenant"
)

// syncTenant recomputes one Tenant resource from the informer caches and publishes the result.
// It runs on the worker goroutine only.
func (s *Source) syncTenant(name string) {
	rec := s.currentRecord(name)
	s.index(name, rec)
	var t *tenant.Tenant
	if rec != nil {
		var err error
		if t, err = rec.resolve(s.getSecret); err != nil {
			s.logResolveError(name, err.Error())
		} else {
			s.logResolveError(name, "")
		}
	} else {
		delete(s.errs, name)
	}
	s.publish(name, rec, t)
}

// currentRecord returns the record of a Tenant of this cluster, nil when the resource is gone
// or belongs to another cluster.
func (s *Source) currentRecord(name string) *record {
	obj, exists, err := s.tenants.GetStore().GetByKey(s.cfg.Namespace + "/" + name)
	if err != nil || !exists {
		return nil
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || clusterOf(u) != s.cfg.ClusterName {
		return nil
	}
	rec, err := recordFrom(u)
	if err != nil {
		s.logResolveError(name, err.Error())
		return nil
	}
	return rec
}

// index keeps records and the Secret -> Tenant index current.
func (s *Source) index(name string, rec *record) {
	if old := s.records[name]; old != nil {
		for _, sec := range old.secrets {
			delete(s.bySec[sec], name)
			if len(s.bySec[sec]) == 0 {
				delete(s.bySec, sec)
			}
		}
	}
	if rec == nil {
		delete(s.records, name)
		return
	}
	s.records[name] = rec
	for _, sec := range rec.secrets {
		if s.bySec[sec] == nil {
			s.bySec[sec] = map[string]bool{}
		}
		s.bySec[sec][name] = true
	}
}

// logResolveError logs a tenant that cannot be served once per distinct error (resyncs would
// repeat it), and its recovery. Messages name fields and Secrets, never values.
func (s *Source) logResolveError(name, msg string) {
	prev, had := s.errs[name]
	switch {
	case msg == "" && had:
		delete(s.errs, name)
		s.log.Info("tenant resolved again", "tenant", name)
	case msg != "" && msg != prev:
		s.errs[name] = msg
		s.log.Warn("tenant not served: cannot resolve", "tenant", name, "err", msg)
	}
}

func (s *Source) getSecret(name string) (*corev1.Secret, error) {
	obj, exists, err := s.secrets.GetStore().GetByKey(s.cfg.Namespace + "/" + name)
	if err != nil || !exists {
		return nil, err
	}
	sec, _ := obj.(*corev1.Secret)
	return sec, nil
}

// publish replaces the published tenant of resource name with t (nil: not served) and the
// assignment with rec's, then tells subscribers about real changes only.
func (s *Source) publish(name string, rec *record, t *tenant.Tenant) {
	s.mu.Lock()
	old := s.byName[name]
	if t != nil {
		if cur, ok := s.byExt[t.ExternalID]; ok && cur.Name != name {
			s.log.Error("tenant not served: externalId already used by another Tenant",
				"tenant", name, "externalId", t.ExternalID, "usedBy", cur.Name)
			t = nil
		}
	}
	var events []tenant.Event
	if old != nil && (t == nil || old.ExternalID != t.ExternalID) {
		delete(s.byExt, old.ExternalID)
		delete(s.byName, name)
		events = append(events, tenant.Event{Old: old})
		s.requeueExternalID(old.ExternalID, name)
		old = nil
	}
	switch {
	case t == nil:
	case old == nil:
		events = append(events, tenant.Event{New: t})
	case !reflect.DeepEqual(old, t):
		events = append(events, tenant.Event{Old: old, New: t})
	default:
		t = old // unchanged: keep the published pointer
	}
	if t != nil {
		s.byExt[t.ExternalID] = t
		s.byName[name] = t
	}
	if s.setOwnership(name, rec) {
		for _, ch := range s.owners {
			select {
			case ch <- struct{}{}:
			default: // a signal is already pending; the reader re-reads everything
			}
		}
	}
	subs := s.subs
	s.mu.Unlock()

	for _, ev := range events {
		for _, fn := range subs {
			fn(ev)
		}
	}
}

// requeueExternalID queues the other Tenants waiting for an external id that was just freed.
func (s *Source) requeueExternalID(externalID, except string) {
	for n, r := range s.records {
		if n != except && r.externalID() == externalID {
			s.queue.Add(key{kind: "tenant", name: n})
		}
	}
}

// setOwnership records rec's assignment and reports whether it changed. Caller holds s.mu.
func (s *Source) setOwnership(name string, rec *record) bool {
	prev, had := s.ownerships[name]
	if rec == nil {
		delete(s.ownerships, name)
		return had && prev.needsOwner && prev.owner != ""
	}
	next := ownership{externalID: rec.externalID(), owner: rec.owner, needsOwner: rec.needsOwner()}
	s.ownerships[name] = next
	return prev != next
}

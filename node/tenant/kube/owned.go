package kube

import (
	"slices"

	"k8s.io/client-go/kubernetes"
)

// Owned returns the external ids of the tenants whose WAL work is assigned to podName
// (status.replication.node == podName), sorted. Only tenants that have WAL work are listed:
// a database and not suspended. A tenant is listed even while its Secrets do not resolve, so
// its owner keeps the Lease (and the assignment stays put) until they do; Get tells whether
// it can be served.
func (s *Source) Owned(podName string) []string {
	return s.owned(podName, func(name string, o ownership) string { return o.externalID })
}

// OwnedNames is Owned by Tenant resource name: the names a LeaseHolder holds (Lease
// "tenant-<name>").
func (s *Source) OwnedNames(podName string) []string {
	return s.owned(podName, func(name string, _ ownership) string { return name })
}

func (s *Source) owned(podName string, pick func(string, ownership) string) []string {
	if podName == "" {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for name, o := range s.ownerships {
		if o.needsOwner && o.owner == podName {
			out = append(out, pick(name, o))
		}
	}
	slices.Sort(out)
	return out
}

// OwnsFunc returns a predicate over external ids answering "is this tenant's WAL work
// assigned to podName right now"; it reads the live state on every call.
func (s *Source) OwnsFunc(podName string) func(externalID string) bool {
	return func(externalID string) bool {
		if podName == "" {
			return false
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, o := range s.ownerships {
			if o.externalID == externalID && o.needsOwner && o.owner == podName {
				return true
			}
		}
		return false
	}
}

// OwnershipChanged returns a new channel that receives a value after any later change of an
// assignment (coalesced: one pending value stands for any number of changes); the reader then
// calls Owned again. Each caller (the WAL supervisor, the LeaseHolder) takes its own channel.
func (s *Source) OwnershipChanged() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners = append(s.owners, ch)
	return ch
}

// LeaseHolder returns the fencing Lease holder of podName for the tenants this source assigns
// to it, plus those streaming lists (the tenants whose WAL stream has not stopped yet; nil for
// none), so a Lease is released only after its stream stopped. Its Run renews at once when an
// assignment changes. Run it beside the source, after Ready.
func (s *Source) LeaseHolder(client kubernetes.Interface, podName string, streaming func() []string) *LeaseHolder {
	return &LeaseHolder{
		Client: client, Namespace: s.cfg.Namespace, Identity: podName, Log: s.cfg.Log,
		Labels:  map[string]string{ClusterLabel: s.cfg.ClusterName},
		Trigger: s.OwnershipChanged(),
		Tenants: func() []string {
			names := s.OwnedNames(podName)
			if streaming != nil {
				names = append(names, streaming()...)
			}
			slices.Sort(names)
			return slices.Compact(names)
		},
	}
}

package cluster

import "context"

// StaticDiscovery is a fixed member list (development, tests, or a hand-written config).
type StaticDiscovery struct {
	members []Member
	changes chan struct{}
}

// NewStaticDiscovery returns a Discovery that always reports members.
func NewStaticDiscovery(members ...Member) *StaticDiscovery {
	ms := append([]Member(nil), members...)
	sortMembers(ms)
	s := &StaticDiscovery{members: ms, changes: make(chan struct{}, 1)}
	notify(s.changes) // the first read by the mesh sees the list
	return s
}

// Run blocks until ctx ends: the list never changes.
func (s *StaticDiscovery) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Members returns a copy of the fixed list.
func (s *StaticDiscovery) Members() []Member { return append([]Member(nil), s.members...) }

// Changes fires once at construction.
func (s *StaticDiscovery) Changes() <-chan struct{} { return s.changes }

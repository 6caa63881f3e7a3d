package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/rtt"
	"github.com/realtimeops/realtime/node/tenant"
)

// rttParts measures this node's round-trip time to every tenant database (node/rtt) and hands
// each round's figures to the publishers: the mesh (rtt.Share, placement without the operator)
// and, with the Kubernetes tenant source, the pod's RTT Lease the operator reads.
type rttParts struct {
	prober     *rtt.Prober
	share      *rtt.Share
	publishers []func(map[string]rtt.Figure)
}

func newRTT(cfg config, src *tenantSource, mesh *cluster.Mesh, promReg prometheus.Registerer) *rttParts {
	p := &rttParts{}
	reg := src.registry
	if src.publishRTT != nil {
		p.publishers = append(p.publishers, src.publishRTT)
	}
	if mesh != nil {
		// A peer's table older than 4 rounds is ignored (a peer that stopped measuring).
		p.share = rtt.NewShare(mesh, 4*cfg.RTT.Interval+10*time.Second)
		p.publishers = append(p.publishers, p.share.Publish)
	}
	p.prober = rtt.NewProber(rtt.Config{
		Endpoints:  func() []string { return databaseEndpoints(reg) },
		Interval:   cfg.RTT.Interval,
		Settle:     rtt.Settle{MinMs: rtt.DefaultSettle.MinMs, Ratio: rtt.DefaultSettle.Ratio, Hold: cfg.RTT.Hold},
		Registerer: promReg,
		OnRound: func(f map[string]rtt.Figure) {
			for _, pub := range p.publishers {
				pub(f)
			}
		},
	})
	return p
}

// rttOf is the mesh owner's view of a node's figure (nil without a mesh).
func (p *rttParts) rttOf() func(node, endpoint string) float64 {
	if p.share == nil {
		return nil
	}
	return p.share.RTT
}

// databaseEndpoints lists the distinct database endpoints of the registry's tenants.
func databaseEndpoints(reg tenant.Registry) []string {
	all, ok := reg.(interface{ All() []*tenant.Tenant })
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range all.All() {
		if t.Database == nil || t.Suspend {
			continue
		}
		ep := rtt.Endpoint(t.Database.Host, t.Database.Port)
		if !seen[ep] {
			seen[ep] = true
			out = append(out, ep)
		}
	}
	return out
}

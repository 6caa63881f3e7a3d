package controllers

import (
	"fmt"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/node/placement"
)

// requestedReason is the placement reason recorded for an owner chosen by MoveToAnnotation.
const requestedReason placement.Reason = realtimev1.MoveRequested

// requestedOwner applies the Tenant's move-to annotation (kubectl realtime move) to the usual
// decision d: the named pod owns the tenant while it is an eligible candidate (ready, not
// draining or terminating, its Lease not fenced), so the handoff is planned: the old owner sees
// the new assignment, stops streaming and releases the Lease, the new one acquires it. When the
// pod cannot own it, d stands and problem says why (the annotation is kept: it applies again
// once the pod is eligible).
func requestedOwner(t *realtimev1.Tenant, cluster string, cands []placement.Node, why map[string]ineligibility, d placement.Decision) (out placement.Decision, requested bool, problem string) {
	to := t.Annotations[realtimev1.MoveToAnnotation]
	if to == "" {
		return d, false, ""
	}
	for _, n := range cands {
		if n.Name != to {
			continue
		}
		if !n.Ready {
			reason := why[to].Reason
			if reason == "" {
				reason = "not eligible"
			}
			return d, false, fmt.Sprintf("requested owner %s cannot own the tenant now (%s)", to, reason)
		}
		return placement.Decision{Node: n.Name, Region: n.Region, Reason: requestedReason}, true, ""
	}
	return d, false, fmt.Sprintf("requested owner %s is not a node pod of RealtimeCluster %q", to, cluster)
}

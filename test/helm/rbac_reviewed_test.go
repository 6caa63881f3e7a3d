package helm

import (
	"testing"
)

// reviewedRules is every permission the operator holds, each with why it needs it. A change of
// the +kubebuilder:rbac markers fails here until the list (and so a reviewer) agrees.
var reviewedRules = map[rule]string{
	{"", "pods", "get"}:                                                  "placement candidates and cluster status",
	{"", "pods", "list"}:                                                 "same",
	{"", "pods", "watch"}:                                                "same",
	{"", "nodes", "get"}:                                                 "cordoned nodes move tenants",
	{"", "nodes", "list"}:                                                "same",
	{"", "nodes", "watch"}:                                               "same",
	{"", "secrets", "get"}:                                               "referenced keys exist; DB password for slot probes and drops",
	{"", "secrets", "list"}:                                              "informer",
	{"", "secrets", "watch"}:                                             "informer",
	{"", "secrets", "create"}:                                            "generated inter-node secret",
	{"", "secrets", "patch"}:                                             "finalizer on a tenant's password Secret while its slot exists",
	{"", "events", "create"}:                                             "events",
	{"", "events", "patch"}:                                              "event series",
	{"events.k8s.io", "events", "create"}:                                "events",
	{"events.k8s.io", "events", "patch"}:                                 "event series",
	{"coordination.k8s.io", "leases", "get"}:                             "fencing Leases",
	{"coordination.k8s.io", "leases", "list"}:                            "informer",
	{"coordination.k8s.io", "leases", "watch"}:                           "informer",
	{"coordination.k8s.io", "leases", "create"}:                          "leader election",
	{"coordination.k8s.io", "leases", "update"}:                          "leader election",
	{"coordination.k8s.io", "leases", "delete"}:                          "finalizer deletes a tenant's Lease",
	{"realtime.realtimeops.io", "realtimeclusters", "get"}:               "reconcile",
	{"realtime.realtimeops.io", "realtimeclusters", "list"}:              "informer",
	{"realtime.realtimeops.io", "realtimeclusters", "watch"}:             "informer",
	{"realtime.realtimeops.io", "realtimeclusters/finalizers", "update"}: "blockOwnerDeletion on children",
	{"realtime.realtimeops.io", "realtimeclusters/status", "get"}:        "status",
	{"realtime.realtimeops.io", "realtimeclusters/status", "patch"}:      "status",
	{"realtime.realtimeops.io", "tenants", "get"}:                        "reconcile",
	{"realtime.realtimeops.io", "tenants", "list"}:                       "informer",
	{"realtime.realtimeops.io", "tenants", "watch"}:                      "informer",
	{"realtime.realtimeops.io", "tenants", "patch"}:                      "slot finalizer",
	{"realtime.realtimeops.io", "tenants/status", "get"}:                 "status",
	{"realtime.realtimeops.io", "tenants/status", "patch"}:               "status",
}

// Kinds the operator creates and owns: full control, nothing cluster-scoped.
var ownedKinds = map[[2]string]string{
	{"apps", "statefulsets"}: "one per region", {"policy", "poddisruptionbudgets"}: "one per region",
	{"", "services"}: "client and headless", {"", "serviceaccounts"}: "node pods",
	{"rbac.authorization.k8s.io", "roles"}: "node pods read Tenants/Secrets, hold Leases", {"rbac.authorization.k8s.io", "rolebindings"}: "same",
	{"networking.k8s.io", "networkpolicies"}: "optional NetworkPolicy of the node pods",
}

func TestRBACMatchesReviewedList(t *testing.T) {
	want := map[rule]bool{}
	for r := range reviewedRules {
		want[r] = true
	}
	for k := range ownedKinds {
		for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
			want[rule{k[0], k[1], v}] = true
		}
	}
	crs := byKind(objects(t, mustRender(t, nil).manifest), "ClusterRole")
	if len(crs) != 1 {
		t.Fatalf("%d ClusterRoles", len(crs))
	}
	got := map[rule]bool{}
	for _, r := range rulesOf(t, crs[0]) {
		got[r] = true
		if !want[r] {
			t.Errorf("the operator is granted %s, which is not in the reviewed list", r)
		}
	}
	for r := range want {
		if !got[r] {
			t.Errorf("reviewed permission %s is no longer granted: drop it from the list", r)
		}
	}
}

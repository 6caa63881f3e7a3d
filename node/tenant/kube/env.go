package kube

import (
	"fmt"
	"slices"
	"strings"
)

// Env is what the operator sets in node pods (controllers/realtimecluster_env.go) and this
// package needs: TENANT_SOURCE=kubernetes selects it.
type Env struct {
	Namespace   string // NAMESPACE
	ClusterName string // CLUSTER_NAME
	PodName     string // POD_NAME
}

func envFrom(get func(string) string) (Env, error) {
	e := Env{Namespace: get("NAMESPACE"), ClusterName: get("CLUSTER_NAME"), PodName: get("POD_NAME")}
	var missing []string
	for name, v := range map[string]string{"NAMESPACE": e.Namespace, "CLUSTER_NAME": e.ClusterName, "POD_NAME": e.PodName} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return e, fmt.Errorf("kubernetes tenant source: missing environment %s", strings.Join(missing, ", "))
	}
	return e, nil
}

package kube

// Env is what the operator sets in node pods (controllers/realtimecluster_env.go) and this
// package needs: TENANT_SOURCE=kubernetes selects it. node/nodeconfig reads and checks the
// variables.
type Env struct {
	Namespace   string // NAMESPACE
	ClusterName string // CLUSTER_NAME
	PodName     string // POD_NAME
}

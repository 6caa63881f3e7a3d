// Package helm holds the tests of the Helm chart charts/realtime-operator: rendering through the
// Helm SDK with golden output, the no-diff check of the chart's CRDs against config/crd/bases,
// the operator's RBAC rules against config/rbac/role.yaml, and the rendered CRDs and manifests
// applied to a real kube-apiserver (envtest). Regenerate the golden files with
//
//	go test ./test/helm/ -run Golden -update
package helm

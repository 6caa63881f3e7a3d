// Package e2e proves placement and failover of the operator on a simulated multi-region
// Kubernetes cluster: real etcd, kube-apiserver, kube-controller-manager (StatefulSet controller)
// and kube-scheduler, with kwok faking the kubelets of six nodes (two per region eu-west, us-east,
// ap-south), all on loopback and started by the test itself (see simcluster_test.go). The operator
// runs in-process through controllers.Setup, as cmd/realtime-operator runs it.
//
// The binaries are built from Go modules by hack/k8s-test-bins.sh (`make test-bins-e2e`) into
// $K8S_TEST_BINS (else $KUBEBUILDER_ASSETS, else ~/.cache/k8s-test-bins/v1.37.2); the test fails,
// never skips, when they are missing. E2E_KEEP_WORKDIR=1 keeps the logs and data of a passing run
// (a failing run always keeps them and prints where).
package e2e

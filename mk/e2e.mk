# e2e suite (test/e2e): the operator against a simulated three-region cluster (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok fake nodes) that the test starts
# on loopback. Included by the top-level Makefile.

# `go test ./...` runs test/e2e, which needs the four binaries beyond envtest's etcd +
# kube-apiserver. Built before `go test`, never inside it (cached and flock'ed; a cold build takes
# 4-5 minutes, a warm rerun 0.2 s).
TEST_DEPS += test-bins-e2e

##@ e2e (simulated multi-region cluster)

.PHONY: test-bins-e2e
test-bins-e2e: ## Build kube-controller-manager, kube-scheduler, kubectl and kwok for the e2e suite (cached, flock'ed).
	BINS="kube-controller-manager kube-scheduler kubectl kwok" hack/k8s-test-bins.sh $(K8S_TEST_BINS)

.PHONY: test-e2e
test-e2e: test-bins-envtest test-bins-e2e ## Run only the e2e suite (placement and failover on a simulated cluster), verbosely.
	K8S_TEST_BINS=$(K8S_TEST_BINS) $(GO) test -count=1 -v -timeout 10m ./test/e2e/

# Real-cluster e2e (test/e2e-real): the product installed the way a platform team installs it
# (helm install + the README's quick start) on a real cluster on this machine: control plane,
# kube-proxy, CoreDNS, 2 regions x 2 real kubelets, Postgres, latency between the regions
# (hack/real-cluster.sh). Needs root.
# Included by the top-level Makefile.

REAL_CLUSTER_BINS ?= $(HOME)/.cache/real-cluster-bins/$(K8S_VERSION)
E2E_REAL_DIR      ?= $(CURDIR)/.e2e-real
E2E_REAL_APT      := containerd runc containernetworking-plugins iptables util-linux iproute2 openssl ca-certificates
E2E_REAL_FLAGS    ?= -count=1 -v -timeout 25m

##@ e2e on a real cluster (root)

.PHONY: e2e-real-apt
e2e-real-apt: ## Install containerd, runc, CNI plugins and iptables with apt (only what is missing).
	@missing=""; for p in $(E2E_REAL_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt-get install$$missing"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

.PHONY: test-bins-real
test-bins-real: ## Build kubelet, kube-proxy, CoreDNS and helm from Go modules (cached, flock'ed).
	hack/real-cluster-bins.sh $(REAL_CLUSTER_BINS)

# The upgrade drill installs the previous commit's images first (bin/images-prev), then upgrades
# to the working tree's; only `make e2e-real` builds them (E2E_REAL_PREV=REV for another commit).
E2E_REAL_PREV      ?= HEAD~1
E2E_REAL_PREV_DIR  ?= $(LOCALBIN)/images-prev
E2E_REAL_DRILLS    ?= all
E2E_REAL_UPGRADE    = $(if $(filter all,$(E2E_REAL_DRILLS))$(findstring upgrade,$(E2E_REAL_DRILLS)),yes)

# The real cluster's latency between regions (hack/real-cluster-latency.sh); ~3 s to build.
.PHONY: delayline
delayline: | $(LOCALBIN) ## Build hack/delayline, the userspace TUN delay line of the real cluster.
	$(GO) build -o $(LOCALBIN)/delayline ./hack/delayline

.PHONY: e2e-real-deps
e2e-real-deps: e2e-real-apt pg-install test-bins-envtest test-bins-e2e test-bins-real images conformance-deps delayline ## Everything hack/real-cluster.sh up and test/e2e-real need.

.PHONY: images-prev
images-prev: ## Images of the previous commit (E2E_REAL_PREV) for the upgrade drill, in bin/images-prev.
	hack/prev-images.sh $(E2E_REAL_PREV) $(E2E_REAL_PREV_DIR)

.PHONY: real-cluster-up
real-cluster-up: e2e-real-deps ## Start the real cluster with the product installed; writes .e2e-real/env.
	E2E_REAL_DIR=$(E2E_REAL_DIR) RBIN=$(REAL_CLUSTER_BINS) BIN=$(K8S_TEST_BINS) DELAYLINE=$(LOCALBIN)/delayline hack/real-cluster.sh up

.PHONY: real-cluster-down
real-cluster-down: ## Stop the real cluster and remove everything it created.
	E2E_REAL_DIR=$(E2E_REAL_DIR) hack/real-cluster.sh down

# The test binary is compiled outside the netns (the module proxy is not reachable inside), then
# run inside it; the cluster is torn down whether the test passed or not.
.PHONY: e2e-real
e2e-real: e2e-real-deps $(if $(E2E_REAL_UPGRADE),images-prev) ## Run test/e2e-real on a fresh real cluster (up, test, down).
	$(GO) test -c -tags e2ereal -o $(LOCALBIN)/e2e-real.test ./test/e2e-real/
	@E2E_REAL_DIR=$(E2E_REAL_DIR) DELAYLINE=$(LOCALBIN)/delayline PREV_IMG=$(if $(E2E_REAL_UPGRADE),$(E2E_REAL_PREV_DIR)) \
		hack/e2e-real-run.sh $(LOCALBIN)/e2e-real.test $(E2E_REAL_FLAGS)

# `make test` runs the real-cluster suite after `go test` on a fresh cluster: the install, clients
# through the Service and the pods, Postgres Changes and the private channel, and the drills named
# here (each costs ~30-90 s; `make e2e-real` runs them all). Root is required: without it
# hack/real-cluster.sh up fails, and so does `make test`. Measured 4 Dec (load 11): up 66 s, test
# 126 s (rtt-placement 2.4 s, delete-owner-pod 28 s, drain-owner-node 47 s, slower-owner-path 26 s),
# down 28 s; the delay line adds ~1 s to up.
E2E_REAL_TEST_DRILLS ?= delete-owner-pod,drain-owner-node,slower-owner-path
TEST_DEPS  += e2e-real-deps
TEST_AFTER += $(MAKE) --no-print-directory e2e-real E2E_REAL_DRILLS=$(E2E_REAL_TEST_DRILLS)

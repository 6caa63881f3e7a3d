# Operator targets (kubebuilder conventions). Included by the top-level Makefile (include mk/*.mk).

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.1
K8S_VERSION ?= v1.37.2
K8S_TEST_BINS ?= $(HOME)/.cache/k8s-test-bins/$(K8S_VERSION)
RELEASE_VERSION ?= 0.1.0
OPERATOR_IMG ?= ghcr.io/realtimeops/realtime-operator:$(RELEASE_VERSION)
KUBECTL ?= kubectl
GO ?= go

# `make build` also builds the operator.
BUILD_EXTRA += build-operator

##@ Operator

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and the operator ClusterRole into config/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:maxDescLen=400 paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: test-bins-envtest
test-bins-envtest: ## Build etcd + kube-apiserver for envtest (cached, flock'ed).
	BINS="etcd kube-apiserver" hack/k8s-test-bins.sh $(K8S_TEST_BINS)

.PHONY: test-operator
test-operator: test-bins-envtest ## Run the operator's tests (api, placement, controllers).
	KUBEBUILDER_ASSETS=$(K8S_TEST_BINS) $(GO) test ./api/... ./node/placement/... ./node/slotname/... ./controllers/...

.PHONY: build-operator
build-operator: | $(LOCALBIN) ## Build bin/realtime-operator.
	$(GO) build -o $(LOCALBIN)/realtime-operator ./cmd/realtime-operator

.PHONY: run-operator
run-operator: manifests generate ## Run the operator against the current kubeconfig.
	$(GO) run ./cmd/realtime-operator --leader-elect=false

.PHONY: install
install: manifests kustomize ## Install the CRDs into the current cluster.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs (and every RealtimeCluster/Tenant!).
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator with kustomize (config/default).
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(OPERATOR_IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator deployed by deploy.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

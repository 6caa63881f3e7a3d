# Helm chart targets. Included by the top-level Makefile (include mk/*.mk).
# Tools go into bin/ with `go install` at pinned versions, as kubebuilder projects do.

LOCALBIN ?= $(CURDIR)/bin
HELM ?= $(LOCALBIN)/helm
HELM_VERSION ?= v3.22.0
CHART_DIR ?= charts/realtime-operator

.PHONY: helm
helm: $(HELM) ## Install helm into bin/.
$(HELM): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: helm-lint
helm-lint: helm ## Lint the operator chart, cluster-wide and per-namespace (part of make test).
	$(HELM) lint --strict $(CHART_DIR)
	$(HELM) lint --strict $(CHART_DIR) --set 'watchNamespaces={team-a,team-b}' --set metrics.serviceMonitor.enabled=true
	$(HELM) lint --strict $(CHART_DIR) --set monitoring.podMonitor.enabled=true --set monitoring.prometheusRule.enabled=true --set monitoring.grafanaDashboard.enabled=true

.PHONY: chart-crds
chart-crds: manifests ## Regenerate the chart's CRD templates from config/crd/bases.
	go run ./test/helm/cmd/chart-crds -src config/crd/bases -dst $(CHART_DIR)/templates/crds

.PHONY: test-helm
test-helm: test-bins-envtest helm-lint ## Run the chart's tests (render, golden, no-diff, envtest dry-run).
	KUBEBUILDER_ASSETS=$(K8S_TEST_BINS) go test ./test/helm/... ./node/tenant/kube/...

.PHONY: helm-golden
helm-golden: ## Rewrite the chart's golden files after an intended change.
	go test ./test/helm/ -run Golden -update

TEST_DEPS += helm-lint

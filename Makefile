# realtime: a Go re-implementation of Supabase Realtime (node) plus its Kubernetes operator.
# Targets follow kubebuilder conventions: manifests generate fmt vet test build run.

LOCALBIN      ?= $(CURDIR)/bin
K8S_VERSION   ?= v1.37.2
K8S_TEST_BINS ?= $(HOME)/.cache/k8s-test-bins/$(K8S_VERSION)
GO            ?= go
GOTEST_FLAGS  ?= -timeout 40m
# Prerequisites of `make test`, appended to by the fragments in mk/ (Postgres, envtest binaries, npm).
TEST_DEPS     :=
# Commands `make test` runs after `go test` (mk/e2e-real.mk: the real-cluster suite).
TEST_AFTER    :=

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

.PHONY: all
all: build

include $(sort $(wildcard mk/*.mk))

# envtest needs kube-apiserver + etcd, built from Go modules and cached outside the repo; built
# here, before `go test`, never inside a test (a cold build takes ~9 minutes).
TEST_DEPS += test-bins-envtest

##@ Development

.PHONY: fmt
fmt: ## Run go fmt against code.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	$(GO) vet ./...

.PHONY: test
test: $(TEST_DEPS) build-node ## Run every test: unit, integration (real Postgres), envtest, conformance (realtime-js), the real cluster.
	KUBEBUILDER_ASSETS=$(K8S_TEST_BINS) REALTIME_NODE_BIN=$(LOCALBIN)/realtime-node \
		$(GO) test $(GOTEST_FLAGS) ./...
	$(TEST_AFTER)

##@ Build

.PHONY: build
build: build-node $(BUILD_EXTRA) ## Build every binary into bin/.

.PHONY: build-node
build-node: | $(LOCALBIN) ## Build the realtime node.
	$(GO) build -o $(LOCALBIN)/realtime-node ./cmd/realtime-node

.PHONY: run
run: build-node $(RUN_DEPS) ## Start one node on :4000 with config/dev/tenants.yaml and a local Postgres.
	$(LOCALBIN)/realtime-node --addr :4000 --admin-addr 127.0.0.1:4002 --tenants config/dev/tenants.yaml --default-tenant realtime-dev --inspector --print-dev-help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-22s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

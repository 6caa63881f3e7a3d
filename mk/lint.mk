# Lint: golangci-lint with the reviewed linter set of .golangci.yml. Included by the top-level
# Makefile. The binary is built from Go modules at a pinned version into bin/ (the version is in
# its name, so a bump rebuilds it and a second run builds nothing); its analysis cache lives in
# ~/.cache/golangci-lint, outside the repo. Measured cold (empty Go build and module caches):
# 215 s user + 85 s system CPU for the build, about 2.5 min on an idle 2-core runner (13 min wall
# at load 27), plus ~125 CPU-s for a first lint run; a warm `make lint` re-checks changed
# packages only.

# `make test` (the CI command) lints first, so CI enforces .golangci.yml.
TEST_DEPS += lint

GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT         ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

##@ Lint

$(GOLANGCI_LINT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Build golangci-lint (pinned) into bin/.

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (.golangci.yml: govet, staticcheck, errcheck, revive, gosec, ...) on every package.
	$(GOLANGCI_LINT) run ./...

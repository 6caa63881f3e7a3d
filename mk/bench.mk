# Benchmarks (not tests): the load generator against a spawned node, then the Go micro-benchmarks
# of the node packages. Figures and how to read them: docs/benchmarks.md.

BENCH_OUT   ?= bench.json
# e.g. BENCH_FLAGS='--scenarios b,c --sat-step 3s'; see `bin/realtime-bench -h`.
BENCH_FLAGS ?=
BENCH_GO_PKGS ?= $(filter-out ./node/changes/,$(shell $(GO) list -f '{{if .TestGoFiles}}./{{.ImportPath}}/{{end}}' ./node/... | sed 's|github.com/realtimeops/realtime/||'))

##@ Benchmarks

.PHONY: build-bench
build-bench: | $(LOCALBIN) ## Build the load generator.
	$(GO) build -o $(LOCALBIN)/realtime-bench ./cmd/realtime-bench

.PHONY: bench
bench: bench-load bench-go bench-cluster ## Run the load scenarios (a-e), the Go micro-benchmarks and the cluster benchmarks.

.PHONY: bench-load
bench-load: build-node build-bench ## Load scenarios against a freshly spawned node; table on stdout, JSON in $(BENCH_OUT).
	$(LOCALBIN)/realtime-bench --spawn $(LOCALBIN)/realtime-node --out $(BENCH_OUT) $(BENCH_FLAGS)

.PHONY: bench-go
bench-go: ## Go micro-benchmarks of the node packages.
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_GO_PKGS)
	# Postgres Changes benchmarks run a fixed workload against a real Postgres: one iteration each.
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./node/changes/

.PHONY: bench-cluster
bench-cluster: build-node ## Cross-node latency, cluster fan-out and presence convergence (node processes on 127.0.0.x).
	REALTIME_NODE_BIN=$(LOCALBIN)/realtime-node $(GO) test -run '^$$' -bench . -benchtime 1x ./test/cluster/

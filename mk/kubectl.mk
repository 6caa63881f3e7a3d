# The kubectl plugin (cmd/kubectl-realtime): `kubectl realtime status|tenant|drain`. Included by
# the top-level Makefile.

KUBECTL_PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

BUILD_EXTRA += build-kubectl-realtime

##@ kubectl plugin

.PHONY: build-kubectl-realtime
build-kubectl-realtime: | $(LOCALBIN) ## Build the kubectl plugin into bin/ (put bin/ on PATH: `kubectl realtime ...`).
	$(GO) build -o $(LOCALBIN)/kubectl-realtime ./cmd/kubectl-realtime

.PHONY: kubectl-realtime-dist
kubectl-realtime-dist: | $(LOCALBIN) ## Release archives of the plugin per platform (bin/dist), as cmd/kubectl-realtime/krew.yaml names them.
	@mkdir -p $(LOCALBIN)/dist
	@for p in $(KUBECTL_PLUGIN_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; d=$$(mktemp -d); \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -o $$d/kubectl-realtime ./cmd/kubectl-realtime && \
		tar -C $$d -czf $(LOCALBIN)/dist/kubectl-realtime_$${os}_$${arch}.tar.gz kubectl-realtime && rm -rf $$d; done
	cd $(LOCALBIN)/dist && sha256sum kubectl-realtime_*.tar.gz

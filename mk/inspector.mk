# Browser test of the node's inspector page (test/inspector): Debian's headless Chromium driven
# from Go by chromedp. Included by the top-level Makefile.

# The browser the test starts; the test finds it on PATH (or in $CHROMIUM_BIN).
CHROMIUM_PKG ?= chromium

# `go test ./...` runs test/inspector, which needs a browser. Installed here, before `go test`,
# only when missing (apt; about 2 minutes cold, nothing when it is on PATH).
TEST_DEPS += chromium

# Under `make test` a missing browser is a failure, never a skip (the test reads this).
test: export REALTIME_BROWSER_REQUIRED := 1

##@ Inspector (browser test)

.PHONY: chromium
chromium: ## Install Debian's chromium with apt when no chromium is on PATH (needs root).
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
		echo "apt-get install $(CHROMIUM_PKG)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(CHROMIUM_PKG) >/dev/null; \
	fi

.PHONY: test-inspector
test-inspector: chromium build-node ## Run only the inspector's browser test, verbosely (screenshots in bin/test-artifacts/inspector, or INSPECTOR_ARTIFACTS).
	REALTIME_BROWSER_REQUIRED=1 REALTIME_NODE_BIN=$(LOCALBIN)/realtime-node $(GO) test -count=1 -v -timeout 5m ./test/inspector/

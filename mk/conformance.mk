# Conformance suite: the unmodified @supabase/realtime-js (pinned in test/conformance/package.json
# and package-lock.json) driving a real realtime-node. Included by the top-level Makefile.

CONFORMANCE_DIR   := test/conformance
# npm ci wipes node_modules, so a stamp inside it is exactly as fresh as the install.
CONFORMANCE_STAMP := $(CONFORMANCE_DIR)/node_modules/.npm-ci.stamp
NPM               ?= npm

# `go test ./...` runs test/conformance, which needs realtime-js installed.
TEST_DEPS += conformance-deps

##@ Conformance (realtime-js)

.PHONY: conformance-deps
conformance-deps: $(CONFORMANCE_STAMP) ## Install the pinned realtime-js with npm ci (only when the lock file changed).

$(CONFORMANCE_STAMP): $(CONFORMANCE_DIR)/package.json $(CONFORMANCE_DIR)/package-lock.json
	cd $(CONFORMANCE_DIR) && $(NPM) ci --no-audit --no-fund
	@touch $@

.PHONY: conformance
conformance: conformance-deps build-node ## Run only the realtime-js conformance suite, verbosely (one line per scenario).
	REALTIME_NODE_BIN=$(LOCALBIN)/realtime-node $(GO) test -count=1 -v -timeout 20m ./$(CONFORMANCE_DIR)/

# Monitoring targets: promtool checks the chart's alert rules. Included by the top-level Makefile.
#
# promtool is built from Go modules (github.com/prometheus/prometheus, pinned) into a cache outside
# the repo with a stamp file, like the Kubernetes test binaries. A cold build is long (the module
# pulls every service-discovery SDK: see docs/operations.md, "Monitoring"), so it is not part of
# `make test`; the rules' shape is checked in Go by test/helm (TestAlertsFileShape).

PROMTOOL_VERSION ?= v0.316.0
TOOLS_CACHE      ?= $(HOME)/.cache/realtime-tools
PROMTOOL         ?= $(TOOLS_CACHE)/promtool-$(PROMTOOL_VERSION)/promtool

##@ Monitoring

$(PROMTOOL):
	mkdir -p $(dir $(PROMTOOL))
	GOBIN=$(dir $(PROMTOOL)) GOFLAGS=-mod=mod $(GO) install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)
	echo $(PROMTOOL_VERSION) > $(dir $(PROMTOOL)).stamp

.PHONY: promtool
promtool: $(PROMTOOL) ## Build promtool (pinned, cached in ~/.cache/realtime-tools).

.PHONY: test-alerts
test-alerts: $(PROMTOOL) ## promtool check rules on the chart's alerts (charts/realtime-operator/files/alerts.yaml).
	@tmp=$$(mktemp); { echo 'groups:'; sed 's/^/  /' charts/realtime-operator/files/alerts.yaml; } > $$tmp; \
		$(PROMTOOL) check rules $$tmp; rc=$$?; rm -f $$tmp; exit $$rc

# Monitoring targets: promtool checks the chart's alert rules. Included by the top-level Makefile.
#
# promtool is built from Go modules (github.com/prometheus/prometheus, pinned) into a cache outside
# the repo (the version is in the path), like the Kubernetes test binaries, and checks the rules in
# `make test`. Measured cold build: 614 s user + 151 s system CPU (about 6.5 min on an idle 2-core
# runner, 34 min wall on a machine shared with three other builds), 3.2 GB peak RSS; warm: 0 s.

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

TEST_DEPS += test-alerts

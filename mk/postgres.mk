# Local Postgres for `make run` and `make test`. Included by the top-level Makefile (include mk/*.mk).

DEV_POSTGRES ?= hack/dev-postgres.sh

# `make test` needs a Postgres server installed (internal/pgtest starts throw-away ones);
# `make run` needs the dev server of config/dev/tenants.yaml running.
TEST_DEPS += pg-install
RUN_DEPS  += dev-postgres

##@ Postgres

.PHONY: pg-install
pg-install: ## Install the Postgres server with apt if none is under /usr/lib/postgresql/*/bin.
	@$(DEV_POSTGRES) install

.PHONY: dev-postgres
dev-postgres: ## Start the dev Postgres (.dev/postgres, 127.0.0.1:54329, wal_level=logical); no-op if running.
	@$(DEV_POSTGRES) start

.PHONY: dev-postgres-stop
dev-postgres-stop: ## Stop the dev Postgres.
	@$(DEV_POSTGRES) stop

.PHONY: dev-psql
dev-psql: ## Open psql on the dev Postgres.
	@$(DEV_POSTGRES) psql

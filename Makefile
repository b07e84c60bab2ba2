# credmon: Go drop-in for HTCondor's condor_credmon_oauth.
# `make help` lists the targets.

GO        ?= go
VERSION   ?= 0.1.0
FUZZTIME  ?= 10s
FUZZPKGS  ?= ./...

BIN_DIR   := bin
CACHE_DIR := $(CURDIR)/.cache
TOOLS_BIN := $(CACHE_DIR)/bin
OIDC_DIR  := internal/oidcprovider/server

# staticcheck v0.8.2 is the newest release that installs and runs with the
# local toolchain (shared/spec/test-infra.md section 6); Debian's is too old.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(TOOLS_BIN)/staticcheck

# Go sources for gofmt: everything except tool caches, npm trees and
# testdata (which the go tool ignores too).
GOFILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path './.cache/*' \
	-not -path '*/node_modules/*' -not -path '*/testdata/*')

# rpm on Debian has an empty rpm database, so BuildRequires cannot be met there.
RPMBUILD_FLAGS ?= $(if $(wildcard /etc/debian_version),--nodeps,)
RPM_TOPDIR     := $(CACHE_DIR)/rpmbuild
RPM_TARBALL    := $(RPM_TOPDIR)/SOURCES/credmon-$(VERSION).tar.gz

# Man pages (section 1) generated from the commands' own definitions
# (cobra/doc): not committed; packaging copies $(MAN_DIR)/man1/*.1.
MAN_DIR := $(CACHE_DIR)/man

.DEFAULT_GOAL := build
.PHONY: help build man test test-stress testdeps lint staticcheck bench fuzz demo demo-oauth rpm clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build every ./cmd/... binary into bin/ (static, -trimpath)
	@mkdir -p $(BIN_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN_DIR)/ ./cmd/...

man: ## generate the man pages of credmon-token (one per command) and credmon-producer into .cache/man/man1 from their command definitions
	rm -rf $(MAN_DIR)/man1
	$(GO) run ./cmd/credmon-token gen-man $(MAN_DIR)/man1
	$(GO) run ./cmd/credmon-producer --gen-man $(MAN_DIR)/man1
	@ls $(MAN_DIR)/man1

testdeps: ## npm ci the local OIDC provider used by the tests, if not installed
	@if [ -f $(OIDC_DIR)/package.json ] && [ ! -d $(OIDC_DIR)/node_modules ]; then \
		echo "npm ci in $(OIDC_DIR)"; \
		cd $(OIDC_DIR) && npm ci --no-audit --no-fund; \
	fi

test: testdeps ## go test -race ./... with the real OIDC provider required (the KDC, oidc-agent and verifier tests when installed; .ci/run requires them)
	CREDMON_REQUIRE_OIDC=1 $(GO) test -race -count=1 ./...

# test-stress: the suite must hold on a busy machine. Both cores are kept
# busy by another process (stress-ng, else one shell busy loop per core)
# for the whole run; STRESS_COUNT=3 repeats every test three times.
STRESS_COUNT ?= 1
test-stress: testdeps ## make test with every core saturated by another process (STRESS_COUNT=n repeats)
	@set -e; pids=""; n=$$(nproc); \
	if command -v stress-ng >/dev/null 2>&1; then \
		stress-ng --cpu $$n --quiet & pids=$$!; \
	else \
		for i in $$(seq $$n); do sh -c 'while :; do :; done' & pids="$$pids $$!"; done; \
	fi; \
	trap 'kill $$pids 2>/dev/null || true' EXIT INT TERM; \
	echo "saturating $$n cores (pids $$pids)"; \
	CREDMON_REQUIRE_OIDC=1 $(GO) test -race -count=$(STRESS_COUNT) -timeout 90m ./...

lint: staticcheck ## gofmt -l, go vet, staticcheck, the architecture test, systemd unit check
	@echo "gofmt -l"; \
	out="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$out" ]; then echo "files need gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -count=1 ./internal/archtest/
	@if command -v systemd-analyze >/dev/null 2>&1; then \
		echo "rpm/verify-units.sh"; rpm/verify-units.sh; \
	else \
		echo "systemd-analyze not found: skipping the unit check"; \
	fi

staticcheck: ## install the pinned staticcheck into .cache/bin if missing
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -qF '($(patsubst v%,%,$(STATICCHECK_VERSION)))'; then \
		echo "installing staticcheck $(STATICCHECK_VERSION) into $(TOOLS_BIN)"; \
		GOBIN="$(TOOLS_BIN)" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

bench: ## run every benchmark once (benchmarks print their own ratios)
	$(GO) test -p 1 -timeout 0 -run '^$$' -bench . -benchtime=1x ./...

fuzz: ## run every Fuzz target for FUZZTIME (default 10s) in FUZZPKGS; fails only on a real finding, after all targets
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" bash scripts/fuzz.sh $(FUZZPKGS)

demo: build ## the daemon minting local-issuer tokens for "credd", step by step (needs nothing else)
	$(GO) run ./examples/demo -credmon $(BIN_DIR)/credmon

demo-oauth: build testdeps ## the daemon refreshing a stored OAuth2 credential against a local OIDC provider (needs node)
	$(GO) run ./examples/demo-oauth -credmon $(BIN_DIR)/credmon

rpm: ## build the RPMs from a tarball of the tree into dist/ (needs rpmbuild)
	@command -v rpmbuild >/dev/null 2>&1 || { \
		echo "rpmbuild not found: apt-get install rpm, or dnf install rpm-build"; exit 1; }
	rm -rf $(RPM_TOPDIR) dist/credmon-*.rpm
	mkdir -p $(RPM_TOPDIR)/SOURCES $(RPM_TOPDIR)/SPECS $(RPM_TOPDIR)/BUILD $(RPM_TOPDIR)/RPMS $(RPM_TOPDIR)/SRPMS dist
	tar --exclude=./.git --exclude=./.cache --exclude=./bin --exclude=./dist --exclude=node_modules \
		--transform 's,^\.,credmon-$(VERSION),' -czf $(RPM_TARBALL) .
	rpmbuild -ba $(RPMBUILD_FLAGS) --define '_topdir $(RPM_TOPDIR)' --define 'pkg_version $(VERSION)' rpm/credmon.spec
	cp $(RPM_TOPDIR)/RPMS/*/*.rpm $(RPM_TOPDIR)/SRPMS/*.rpm dist/
	@ls -l dist/

clean: ## remove build outputs (keeps the .cache tool installs)
	rm -rf $(BIN_DIR) dist $(RPM_TOPDIR) $(MAN_DIR) cover.out

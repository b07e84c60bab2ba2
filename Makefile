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
BROWSER_DIR := internal/browsertest/driver

# staticcheck v0.8.2 is the newest release that installs and runs with the
# local toolchain (shared/spec/test-infra.md section 6); Debian's is too old.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(TOOLS_BIN)/staticcheck

# Go sources for gofmt: everything except tool caches, npm trees and
# testdata (which the go tool ignores too).
GOFILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path './.cache/*' \
	-not -path '*/node_modules/*' -not -path '*/testdata/*')

# Packages: nfpm builds the rpm and the deb from rpm/nfpm.yaml, the one
# description of the installed files. v2.45.2 is the newest nfpm that
# resolves here; it is a build tool in .cache/bin, not a module dependency.
NFPM_VERSION := v2.45.2
NFPM         := $(TOOLS_BIN)/nfpm
# PKG_OUT: where the packages go; PKG_BIN: the static binaries they hold
# (the install test sets both to a temporary directory).
PKG_OUT      ?= dist
PKG_BIN      ?= $(CACHE_DIR)/pkg-bin
PKG_ARCH     := $(shell $(GO) env GOARCH)
PKG_CMDS     := credmon credmon-web credmon-token credmon-producer
PKG_LDFLAGS  := -s -w -X github.com/credmon/credmon/credmon.Version=$(VERSION) -X main.Version=$(VERSION)

# Man pages (section 1) generated from the commands' own definitions
# (cobra/doc): not committed; packaging copies $(MAN_DIR)/man1/*.1.
MAN_DIR := $(CACHE_DIR)/man

.DEFAULT_GOAL := build
.PHONY: help build man test test-stress testdeps lint staticcheck nfpm pkg-bin rpm deb bench fuzz demo demo-oauth web-screenshots clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build every ./cmd/... binary into bin/ (static, -trimpath)
	@mkdir -p $(BIN_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN_DIR)/ ./cmd/...

man: ## generate the man pages of credmon-token (one per command) and credmon-producer into .cache/man/man1, of credmon (one per subcommand) and credmon-web into .cache/man/man8, from their command definitions
	rm -rf $(MAN_DIR)/man1
	$(GO) run ./cmd/credmon-token gen-man $(MAN_DIR)/man1
	$(GO) run ./cmd/credmon-producer --gen-man $(MAN_DIR)/man1
	@# credmon (daemon and admin subcommands): section 8, see cmd/credmon/cli.go.
	rm -rf $(MAN_DIR)/man8
	$(GO) run ./cmd/credmon gen-man $(MAN_DIR)/man8
	$(GO) run ./cmd/credmon-web --gen-man $(MAN_DIR)/man8
	@ls $(MAN_DIR)/man1 $(MAN_DIR)/man8

testdeps: ## npm ci the local OIDC provider and the browser-test driver (playwright-core), if not installed
	@for d in $(OIDC_DIR) $(BROWSER_DIR); do \
		if [ -f $$d/package.json ] && [ ! -d $$d/node_modules ]; then \
			echo "npm ci in $$d"; \
			(cd $$d && npm ci --no-audit --no-fund) || exit 1; \
		fi; \
	done

test: testdeps ## go test -race ./... with the real OIDC provider required (the KDC, oidc-agent, verifier and package install tests when installed; .ci/run requires them)
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

# The browser tests save a PNG of each page they pass (credmon/web's
# shot steps) when CREDMON_WEB_SCREENSHOTS names a directory; the README
# shows the ones in docs/. A missing peer fails instead of skipping, so
# no screenshot is silently left stale.
WEB_SCREENSHOTS := $(CURDIR)/docs
web-screenshots: testdeps ## regenerate the credmon-web screenshots docs/credmon-web-*.png from the browser tests (needs node and chromium)
	CREDMON_WEB_SCREENSHOTS=$(WEB_SCREENSHOTS) CREDMON_REQUIRE_OIDC=1 CREDMON_REQUIRE_BROWSER=1 \
		$(GO) test -count=1 -run '^TestBrowser' ./credmon/web/
	@ls $(WEB_SCREENSHOTS)/credmon-web-*.png

nfpm: ## install the pinned nfpm (packager for make rpm/deb) into .cache/bin if missing
	@# go install leaves nfpm's own --version at "dev": ask the binary's build info.
	@if ! $(GO) version -m "$(NFPM)" 2>/dev/null | grep -qE '^\s+mod\s+github.com/goreleaser/nfpm/v2\s+$(NFPM_VERSION)\s'; then \
		echo "installing nfpm $(NFPM_VERSION) into $(TOOLS_BIN)"; \
		GOBIN="$(TOOLS_BIN)" $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION); \
	fi

pkg-bin: ## build the packaged binaries (static, -trimpath, stripped, VERSION linked in) and their man pages into PKG_BIN
	@mkdir -p $(PKG_BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(PKG_LDFLAGS)' -o $(PKG_BIN)/ $(addprefix ./cmd/,$(PKG_CMDS))
	@# The man pages come from the packaged binaries' own command definitions
	@# (the same as make man), so they describe exactly what is shipped.
	rm -rf $(PKG_BIN)/man1
	$(PKG_BIN)/credmon-token gen-man $(PKG_BIN)/man1
	$(PKG_BIN)/credmon-producer --gen-man $(PKG_BIN)/man1
	rm -rf $(PKG_BIN)/man8
	$(PKG_BIN)/credmon gen-man $(PKG_BIN)/man8
	$(PKG_BIN)/credmon-web --gen-man $(PKG_BIN)/man8

# Both formats from the same rpm/nfpm.yaml; the install test
# (internal/pkgtest, part of make test) unpacks and runs them.
rpm deb: nfpm pkg-bin
	@mkdir -p $(PKG_OUT)
	VERSION=$(VERSION) GOARCH=$(PKG_ARCH) PKG_BIN=$(PKG_BIN) $(NFPM) package -f rpm/nfpm.yaml -p $@ -t $(PKG_OUT)/
rpm: ## build the rpm into PKG_OUT (default dist/) with nfpm from rpm/nfpm.yaml
deb: ## build the deb into PKG_OUT (default dist/) with nfpm from rpm/nfpm.yaml

clean: ## remove build outputs (keeps the .cache tool installs)
	rm -rf $(BIN_DIR) dist $(CACHE_DIR)/pkg-bin $(MAN_DIR) cover.out

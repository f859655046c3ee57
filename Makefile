# The front door: `make help` lists the targets. Every tool is pinned and
# installed here on first use (Go plugins into .tools/, npm packages into
# sdk/ts/node_modules from its lockfile), so a fresh machine needs only Go,
# Node and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c

GO ?= go
TOOLS := $(CURDIR)/.tools
BIN := $(TOOLS)/bin
TS := sdk/ts
BUF := $(TS)/node_modules/.bin/buf
PROTOC_GEN_GO_VERSION := v1.36.11
PROTOC_GEN_CONNECT_GO_VERSION := v1.19.1
# The vtprotobuf version grpc (via arrow-go) already pins in go.mod.
PROTOC_GEN_GO_VTPROTO_VERSION := v0.6.1-0.20240319094008-0393e58bdf10
GOLANGCI_LINT_VERSION := v2.6.2
# golang.org/x/tools, for cmd/deadcode (`make deadcode`).
DEADCODE_VERSION := v0.53.0
export CGO_ENABLED ?= 0

.PHONY: help
help: ## Describe useful make targets
	@grep -hE '^[a-zA-Z_-]+:.*?## .*$$' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "%-16s %s\n", $$1, $$2}'

# At a terminal, job control (set -m) makes the server the terminal's
# foreground process group, so Ctrl-C reaches only the server: it stops
# gracefully and exits 0, and make exits with its status. Otherwise make
# (and go run) would get the SIGINT too and die of it (exit status 130).
# "; exit" keeps bash from exec'ing the server in its own process group.
.PHONY: run
run: build ## Run silt serve with the embedded defaults (127.0.0.1:4437, ./silt-data); Ctrl-C exits 0
	if [ -t 0 ]; then set -m; fi; bin/silt serve; exit $$?

.PHONY: build
# -buildvcs=auto overrides a GOFLAGS=-buildvcs=false in the environment, so
# `silt version` names the commit; outside a git checkout it still builds.
build: ## Build bin/silt (static, CGO_ENABLED=0)
	$(GO) build -buildvcs=auto -o bin/silt ./cmd/silt

.PHONY: test
test: tools checkgenerate lint test-go test-arrow-decoders test-duckdb test-ts test-readme ## Run every check and test (what CI runs)

.PHONY: test-go
test-go: ## Run the Go tests with the race detector, then the SIGKILL tests without it
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -timeout 15m -run 'SIGKILL' ./pkg/server/

# make torture runs the SIGKILL crash run of make test long; the seed is
# printed in its summary line, so a failing run can be repeated.
TORTURE_KILLS ?= 500
TORTURE_SEED ?= $(shell date +%s)
TORTURE_FULL_EVERY ?= 10
# TORTURE_DIR, when set, keeps the run's data directory inside it.
TORTURE_DIR ?=

.PHONY: torture
torture: ## Run the SIGKILL crash run long: 500 kills with rotation (TORTURE_KILLS, TORTURE_SEED, not in make test)
	SILT_CRASH_KILLS=$(TORTURE_KILLS) SILT_CRASH_SEED=$(TORTURE_SEED) SILT_CRASH_FULL_EVERY=$(TORTURE_FULL_EVERY) SILT_CRASH_BUDGET=0 \
		SILT_CRASH_DIR=$(TORTURE_DIR) \
		$(GO) test -count=1 -timeout 0 -v -run 'TestServer_SIGKILL_CrashRun$$' ./pkg/server/

# The arrowdecode build reads every segment with arrow-go's own reader
# (pqarrow) instead of Silt's decoders (docs/segments.md), so an arrow-go
# upgrade is one command: does everything above the decoders still pass?
# It adds about 80 s to make test (79 s wall on 2 cores).
.PHONY: test-arrow-decoders
test-arrow-decoders: ## Run the segment, query and tiered tests reading segments with arrow-go's own decoders (-tags arrowdecode)
	$(GO) vet -tags arrowdecode ./pkg/segment/...
	$(GO) test -tags arrowdecode -count=1 -timeout 15m ./pkg/segment/... ./pkg/query/... ./pkg/tiered/

.PHONY: test-duckdb
test-duckdb: ## Read the Parquet segments with DuckDB, check Query against it (nested cgo module test/duckdb)
	@test -z "$$(gofmt -l test/duckdb)" || { gofmt -l test/duckdb; exit 1; }
	cd test/duckdb && CGO_ENABLED=1 $(GO) vet ./... && CGO_ENABLED=1 $(GO) test -count=1 -timeout 15m ./...

.PHONY: test-short
test-short: ## Run the Go tests in -short mode
	$(GO) test -short -count=1 ./...

.PHONY: test-ts
test-ts: $(TS)/node_modules/.installed build ## Run the TypeScript client tests against a real server
	cd $(TS) && SILT_BIN=$(CURDIR)/bin/silt npm test

.PHONY: test-readme
test-readme: $(TS)/node_modules/.installed build ## Run the README's buf curl and silt lines against a real server
	./.ci/readme-test.sh

.PHONY: bench
bench: ## Run the Go benchmarks, Silt side by side with NATS JetStream
	cd bench && $(GO) test -run '^$$' -bench . -benchtime 3s -timeout 60m .

.PHONY: lint
lint: tools $(BIN)/golangci-lint ## buf lint, buf format, go mod tidy (all three modules), go vet, gofmt, golangci-lint (the product and the bench module), deadcode
	$(BUF) lint
	$(GO) mod tidy -diff
	cd bench && $(GO) mod tidy -diff
	cd test/duckdb && $(GO) mod tidy -diff
	$(BUF) format -d --exit-code proto --path proto/silt
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	@test -z "$$(gofmt -l cmd pkg bench)" || { gofmt -l cmd pkg bench; exit 1; }
	$(BIN)/golangci-lint run --allow-parallel-runners ./...
	cd bench && $(BIN)/golangci-lint run --allow-parallel-runners --config $(CURDIR)/.golangci.yml ./...
	@$(MAKE) --no-print-directory deadcode

# deadcode starts from cmd/silt's main and reports every function of the
# module it cannot reach: dead code, or code only tests call.
.PHONY: deadcode
deadcode: $(BIN)/deadcode ## Fail when a function is reachable only from tests, or from nothing (exceptions: .deadcode-allow)
	@out="$$($(BIN)/deadcode -test=false ./... | { grep -v -E -f <(grep -v -E '^(#|$$)' .deadcode-allow) || true; })"; \
	if [ -n "$$out" ]; then \
		echo "$$out"; \
		echo "deadcode: no main package reaches these functions: delete them, move them into a _test.go file, or justify them in .deadcode-allow"; \
		exit 1; \
	fi

.PHONY: generate
generate: tools ## Regenerate gen/, sdk/ts/src/gen/ and proto/buf/validate (offline)
	cd cmd/validateproto && $(GO) run . > ../../proto/buf/validate/validate.proto
	$(BUF) format -w proto --path proto/silt
	$(BUF) generate

.PHONY: checkgenerate
checkgenerate: generate ## Fail when generated code is stale
	@if [ -n "$$(git status --porcelain -- gen sdk/ts/src/gen proto)" ]; then \
		git status --porcelain -- gen sdk/ts/src/gen proto; \
		echo "generated code is stale: run make generate and commit"; exit 1; fi

.PHONY: tools
tools: $(BIN)/protoc-gen-go $(BIN)/protoc-gen-connect-go $(BIN)/protoc-gen-go-vtproto $(TS)/node_modules/.installed ## Install the pinned tools

$(BIN)/protoc-gen-go: Makefile
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	@touch $@

$(BIN)/protoc-gen-connect-go: Makefile
	GOBIN=$(BIN) $(GO) install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_GO_VERSION)
	@touch $@

$(BIN)/protoc-gen-go-vtproto: Makefile
	GOBIN=$(BIN) $(GO) install github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@$(PROTOC_GEN_GO_VTPROTO_VERSION)
	@touch $@

# The linters are installed by make lint and make deadcode, not by tools:
# make generate needs only the plugins.
$(BIN)/golangci-lint: Makefile
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@touch $@

$(BIN)/deadcode: Makefile
	GOBIN=$(BIN) $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)
	@touch $@

$(TS)/node_modules/.installed: $(TS)/package-lock.json
	cd $(TS) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: clean
clean: ## Remove build output and installed tools
	rm -rf bin .tools $(TS)/node_modules $(TS)/dist

# sipedge — run `make` for the list of targets.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/sipedge/sipedge/internal/buildinfo.Version=$(VERSION)
PKGS      := ./...
TEST_TIMEOUT ?= 25m
FUZZTIME  ?= 20s

.DEFAULT_GOAL := help
.PHONY: help build run test test-deps test-unit bench bench-deps fuzz lint docs clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/edge and bin/phone
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/edge ./cmd/edge
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/phone ./cmd/phone

run: build ## run the edge on its embedded defaults (standalone registrar, TLS 5061, admin 127.0.0.1:9090)
	./bin/edge

test-deps: ## install what the tests need (real SIP peers; apt-get as root; skips what is present)
	bash scripts/test-deps.sh

test: test-deps lint ## install test dependencies, then run every test (unit, real-peer end-to-end)
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

test-unit: ## run the tests without installing anything (real-peer tests skip when peers are missing)
	$(GO) test -count=1 -short $(PKGS)

bench: bench-deps ## run the benchmarks (speed and allocation targets; bench/ compares with rtpengine and Kamailio)
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

bench-deps: ## install the anchors of the benchmarks (rtpengine-daemon, sipp, Kamailio; apt-get as root)
	bash scripts/bench-deps.sh

fuzz: ## run every fuzz target for FUZZTIME each (bounded)
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

lint: ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

docs: ## regenerate docs/configuration.md from the config package
	$(GO) run ./internal/gendocs docs/configuration.md

clean: ## remove build output
	rm -rf bin

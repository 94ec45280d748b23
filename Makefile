# eplink — a local, runnable twin of Alibaba Cloud PrivateLink.
# `make run` starts the demo; `make test` installs what the tests need and runs them.

GO       ?= go
BIN      := bin/eplink
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: all build run test test-short smoke experiments deps bench bench-quick gobench lint fmt clean

all: build

build:
	@echo ">> building $(BIN)"
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eplink

run: build
	@echo ">> starting the demo (Ctrl-C to stop)"
	./$(BIN) serve --demo

# deps installs the Debian tools the tests drive as real clients and peers.
deps:
	@./.ci/deps.sh

test: deps
	@echo ">> running tests (race detector on)"
	$(GO) test -race -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory smoke
	@$(MAKE) --no-print-directory experiments

# smoke runs the guide's walkthrough end to end with the real clients
# (eplink api, dig, curl, wrk) against a freshly built eplink, then on the
# netns front end: as root, or rootless where /dev/net/tun is open to the
# user (eplink says what else a user namespace needs, if anything).
smoke: build
	@echo ">> running examples/walkthrough.sh"
	EPLINK=$(CURDIR)/$(BIN) ./examples/walkthrough.sh
	@if [ "$$(id -u)" = 0 ] || [ -r /dev/net/tun -a -w /dev/net/tun ]; then \
		echo ">> running examples/walkthrough.sh on the netns front end"; \
		NETWORK=netns EPLINK=$(CURDIR)/$(BIN) ./examples/walkthrough.sh; \
	else \
		echo ">> skipping the netns walkthrough: without root it needs /dev/net/tun open to you (chmod 0666 /dev/net/tun)"; \
	fi

# experiments runs every failover plan in examples/experiments/ (each starts
# its own eplink from the lab there, 10-15 s) and fails when one fails its
# expectations; reports go to bin/experiments/PLAN/. It runs the plans of
# examples/experiments/netns/ too (loads inside an instance) as root, or
# rootless where /dev/net/tun is open to the user.
EXPERIMENTS := $(filter-out examples/experiments/lab.yaml,$(wildcard examples/experiments/*.yaml))
NETNS_EXPERIMENTS := $(filter-out examples/experiments/netns/lab.yaml,$(wildcard examples/experiments/netns/*.yaml))
experiments: build
	@echo ">> running the failover experiments in examples/experiments/"
	@set -e; for p in $(EXPERIMENTS); do \
		./$(BIN) experiment run $$p --out bin/experiments/$$(basename $$p .yaml); \
	done
	@if [ "$$(id -u)" = 0 ] || [ -r /dev/net/tun -a -w /dev/net/tun ]; then \
		echo ">> running the netns experiments in examples/experiments/netns/"; \
		set -e; for p in $(NETNS_EXPERIMENTS); do \
			./$(BIN) experiment run $$p --out bin/experiments/netns-$$(basename $$p .yaml); \
		done; \
	else echo ">> skipping examples/experiments/netns/: without root it needs /dev/net/tun open to you (chmod 0666 /dev/net/tun)"; fi

test-short:
	$(GO) test -short -race ./...

# bench runs every side-by-side scenario (eplink vs direct vs HAProxy, DNS vs
# NSD), installing the tools it needs, and rewrites the README's performance
# section from the report in bench/results/.
bench: build
	@echo ">> running the side-by-side benchmarks (about 15 minutes)"
	./$(BIN) bench --readme README.md

bench-quick: build
	./$(BIN) bench --quick

# gobench runs the Go micro-benchmarks of the hot paths.
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@echo ">> vet + gofmt"
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

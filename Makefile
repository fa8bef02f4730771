# shep-operator: the two commands of the README, and their parts.
SHELL := /bin/bash
CARGO ?= cargo
SHEP := target/release/shep
DEMO_NOW ?= 2026-12-03T12:00:00+05:00

.PHONY: all build test lint unit crds crds-check demo bench clean cluster-up cluster-down

all: build

build:
	$(CARGO) build --release --locked

## make test: formatting, lints, CRD drift, unit, integration and property tests, and the live
## operator against a local control plane (built once, then cached), which is stopped afterwards.
test: lint
	$(CARGO) test --locked --all-targets; rc=$$?; tools/cluster-down.sh; exit $$rc

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

## make crds: regenerate crds/ from the Rust types (the tests fail when it drifts).
crds:
	$(CARGO) run --quiet --locked -- crds > crds/crds.yaml

## make demo: render every example scenario at a fixed clock and summarise what the rules say.
demo: build
	@for d in examples/*/; do \
	  echo; echo "=== $$d ($$(head -n 1 $$d/README.md 2>/dev/null | sed 's/^# //'))"; \
	  $(SHEP) render -f $$d --now $(DEMO_NOW) -o summary || exit 1; \
	done
	@echo; echo "=== journal of altyn-bank/legal-entity-info after its protocol was revoked"
	@$(SHEP) render -f examples/03-bank-protocol-revoked --now $(DEMO_NOW) \
	  | awk '/^kind: ServiceConnection/{p=1} p&&/^---/{exit} p' \
	  | awk '/^  journal:/{j=1;next} j&&/^  [a-zA-Z]/{j=0} j&&/message:/{sub(/^ *message: /,"  ");print}'
	@echo; echo "=== chain check"
	@$(SHEP) render -f examples/03-bank-protocol-revoked --now $(DEMO_NOW) | $(SHEP) journal verify
	@echo; echo "Full output: $(SHEP) render -f examples/<scenario> --now $(DEMO_NOW)"

## make bench: engine throughput on a synthetic registry (see docs/BENCHMARKS.md).
bench:
	$(CARGO) bench --locked --bench engine

## make cluster-up / cluster-down: the local control plane (binaries built once into ~/.cache/shep-operator).
cluster-up:
	@tools/cluster-up.sh

cluster-down:
	@tools/cluster-down.sh

clean:
	$(CARGO) clean

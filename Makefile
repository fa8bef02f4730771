# shep-operator: the two commands of the README, and their parts.
SHELL := /bin/bash
CARGO ?= cargo
SHEP := target/release/shep
DEMO_NOW ?= 2026-12-03T12:00:00+05:00
HELM ?= $${SHEP_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/shep-operator}/bin/helm

.PHONY: all build test lint chart crds demo preview bench clean cluster-up cluster-down

all: build

build:
	$(CARGO) build --release --locked

## make test: formatting, lints, helm lint and template, CRD drift, unit, integration and property
## tests, the route against real processes, and the live operator and chart against a local control
## plane (built once, then cached), which is stopped afterwards.
test: lint chart
	$(CARGO) test --locked --lib --bins --tests; rc=$$?; tools/cluster-down.sh; exit $$rc

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

## make crds: regenerate crds/ and the chart's copy from the Rust types (the tests fail when either
## drifts).
crds:
	$(CARGO) run --quiet --locked -- crds > crds/crds.yaml
	cp crds/crds.yaml charts/shep-operator/files/crds.yaml

## make chart: helm lint and helm template of the chart (Helm built once, cached with the control plane).
chart:
	tools/build-control-plane.sh helm
	$(HELM) lint --strict charts/shep-operator
	$(HELM) template shep-operator charts/shep-operator -n shep-system > /dev/null

## make demo: the live operator on a local control plane with the example registry (DEMO_STOP=1 stops
## it afterwards; otherwise `make cluster-down` does).
demo: build
	@tools/demo.sh

## make preview: what the operator would do with each example, without a cluster (shep render).
preview: build
	@for d in examples/*/; do \
	  echo; echo "=== $$d ($$(head -n 1 $$d/README.md 2>/dev/null | sed 's/^# //'))"; \
	  $(SHEP) render -f $$d --now $(DEMO_NOW) -o summary || exit 1; \
	done

## make bench: engine throughput, shep route side by side with nginx (installed if missing), then
## the live operator on the local control plane (see docs/BENCHMARKS.md; SHEP_BENCH_SYSTEMS scales
## the registry, SHEP_BENCH_CONNECTIONS the data-plane load).
bench:
	$(CARGO) bench --locked --bench engine
	PATH="$$PATH:/usr/sbin" tools/bench-tools.sh
	PATH="$$PATH:/usr/sbin" $(CARGO) bench --locked --bench route
	# A fresh control plane: objects left by tests or the demo would be reconciled too.
	tools/cluster-down.sh
	$(CARGO) bench --locked --bench operator; rc=$$?; tools/cluster-down.sh; exit $$rc

## make cluster-up / cluster-down: the local control plane (binaries built once into ~/.cache/shep-operator).
cluster-up:
	@tools/cluster-up.sh

cluster-down:
	@tools/cluster-down.sh

clean:
	$(CARGO) clean

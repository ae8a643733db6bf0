# Thin wrapper: every target is what people and CI run. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GITOPS := $(BIN)/gitops
PYTEST := $(BIN)/pytest
STAMP := $(VENV)/.installed
RENDER_DIR ?= build/rendered
BASE ?=
DIFF_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup ci check render apps test snapshots test-e2e fmt lint bench diff probe clean fuzz loadtest sigterm-stress cluster-tools test-cluster node-deps node-tools images test-node

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# Re-run setup when a dependency list changes; `make setup` forces it.
$(STAMP): pyproject.toml $(wildcard apps/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(foreach app,$(wildcard apps/*/pyproject.toml),-e $(dir $(app)))
	@touch $@

setup: ## create .venv with the gitops CLI, the apps and the dev tools
	@rm -f $(STAMP)
	@$(MAKE) --no-print-directory $(STAMP)

check: $(STAMP) ## render, validate and policy-check every overlay and Argo CD app (the main job)
	$(GITOPS) check

render: $(STAMP) ## write every overlay's rendered YAML to build/rendered/<env>/<service>.yaml
	$(GITOPS) render --out $(RENDER_DIR)

apps: $(STAMP) ## list the Argo CD Applications the ApplicationSets generate
	$(GITOPS) apps

test: $(STAMP) ## unit tests, fixture-repo tests and tests over the real repo (no cluster)
	$(PYTEST) -q

snapshots: $(STAMP) ## rewrite tests/snapshots/ (golden report, diff, simulate output) from the current output
	$(PYTEST) -q -p no:cacheprovider tests/unit/test_golden_snapshots.py --update-snapshots

test-e2e: $(STAMP) ## end-to-end tests on a kind cluster (needs docker or podman, kind, kubectl)
	$(BIN)/python -m tests.e2e.preflight
	$(PYTEST) -m e2e tests/e2e $(E2E_ARGS)

cluster-tools: ## build kube-apiserver, etcd, kwok, metrics-server... from Go modules (cached)
	$(PYTHON) tools/cluster/build.py

test-cluster: $(STAMP) cluster-tools ## cluster tier: manifests vs upstream Kubernetes on KWOK nodes
	$(PYTEST) -m cluster tests/cluster $(CLUSTER_ARGS)

node-deps: ## install the Debian packages the node tier needs (as root; idempotent)
	$(PYTHON) tools/cluster/build.py --group node --install-deps --deps-only

node-tools: node-deps ## build kubelet, kube-proxy, containerd, runc, CNI plugins, CoreDNS... (cached)
	$(PYTHON) tools/cluster/build.py --group node

images: node-tools ## build the node tier's images with buildah on a pinned Debian base (cached)
	$(PYTHON) tools/node/images.py

test-node: $(STAMP) cluster-tools node-tools images ## node tier: the e2e suite on real nodes (root)
	$(PYTEST) -m node tests/node $(NODE_ARGS)

fmt: $(STAMP) ## format the Python code
	$(BIN)/ruff format tools tests apps
	$(BIN)/ruff check --fix tools tests apps

ci: $(STAMP) ## what CI runs (.ci/run): lint, then test, then check; stops at the first failure
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory check

lint: $(STAMP) ## ruff, mypy strict (tools, apps, tests), actionlint (.github/workflows)
	$(BIN)/ruff check tools tests apps
	$(BIN)/ruff format --check tools tests apps
	$(BIN)/mypy
	$(BIN)/actionlint .github/workflows/*.yaml

diff: $(STAMP) ## rendered diff and findings of this branch (BASE=ref, DIFF_ARGS=...)
	@$(GITOPS) diff $(if $(BASE),--base $(BASE)) $(DIFF_ARGS)

BENCHMARKS := render diff validate check simulate hostile
bench: $(STAMP) ## performance targets measured side by side (several minutes); fails if any target is missed
	@failed=""; for name in $(BENCHMARKS); do \
		$(BIN)/python tools/bench/bench_$$name.py || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then echo "bench: target missed by:$$failed"; exit 1; fi

FUZZ_EXAMPLES ?= 3000
fuzz: $(STAMP) ## property-based fuzzing of the parsers, FUZZ_EXAMPLES inputs per target (~1-2 min)
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -q -p no:cacheprovider tests/fuzz

loadtest: $(STAMP) ## healthz and kpis-api under wrk vs nginx and the old servers (needs wrk, nginx; ~4 min)
	$(BIN)/python tools/loadtest/loadtest.py $(LOADTEST_ARGS)

sigterm-stress: $(STAMP) ## SIGTERM healthz 60 times under keep-alive load; every exit must be clean (~1 min)
	$(BIN)/python tools/loadtest/sigterm_stress.py $(STRESS_ARGS)

clean: ## remove build output (keeps .venv)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache

probe: $(STAMP) ## run every env's rendered probes against healthz and kpis-api, locally
	$(GITOPS) probe

docs: $(STAMP) ## regenerate docs/rules.md from the rules' docstrings
	$(BIN)/python -m gitops.rules_doc > docs/rules.md

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
.PHONY: help deps install setup ci check render apps test test-install snapshots test-e2e fmt lint bench diff probe clean fuzz loadtest sigterm-stress cluster-tools test-cluster validator validator-if-go helm helm-if-go docs docs-images node-deps node-tools images test-node

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
		'{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  %-" width "s  %s\n", name[i], text[i] }'

# System prerequisites of the tests (PostgreSQL server, Chromium, chromedriver...): checked
# first by `make test` and `make ci`, which stop with one line naming what is missing and the
# command that installs it. Standard library only: runs before .venv exists.
PREREQUISITES := $(PYTHON) tests/prerequisites.py

deps: ## install the tests' system prerequisites (Debian/Ubuntu, as root; does nothing when all are there)
	@$(PREREQUISITES) --install

# Re-run setup when a dependency list changes; `make setup` forces it.
$(STAMP): pyproject.toml $(wildcard apps/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(foreach app,$(wildcard apps/*/pyproject.toml),-e $(dir $(app)))
	@$(MAKE) --no-print-directory validator-if-go
	@$(MAKE) --no-print-directory helm-if-go
	@touch $@

# `gitops` for everyday use, like the other CLIs beside it: a venv of its own (pipx), the pinned
# kubectl with it, on PATH. PIPX_HOME / PIPX_BIN_DIR choose where, as for pipx itself.
PIPX ?= pipx
install: ## put gitops on your PATH from this checkout (pipx install; PIPX=/path/to/pipx)
	@command -v $(PIPX) >/dev/null 2>&1 || { echo "make install: $(PIPX) not found: install pipx (Debian/Ubuntu: sudo apt-get install pipx; macOS: brew install pipx), or use .venv/bin/gitops after make setup" >&2; exit 2; }
	$(PIPX) install --force .

setup: ## create .venv with the gitops CLI, the apps and the dev tools
	@rm -f $(STAMP)
	@$(MAKE) --no-print-directory $(STAMP)

check: $(STAMP) ## render, validate and policy-check every overlay and Argo CD app (the main job)
	$(GITOPS) check

render: $(STAMP) ## write every overlay's rendered YAML to build/rendered/<env>/<service>.yaml
	$(GITOPS) render --out $(RENDER_DIR)

apps: $(STAMP) ## list the Argo CD Applications the ApplicationSets generate
	$(GITOPS) apps

test: ## unit tests, fixture-repo tests and tests over the real repo (no cluster)
	@$(PREREQUISITES)
	@$(MAKE) --no-print-directory $(STAMP)
	$(PYTEST) -q

test-install: $(STAMP) ## install gitops as adopters do (wheel, make install, pre-commit hooks) and run it (needs PyPI; ~4 min)
	$(PYTEST) -q -m install tests/adoption

snapshots: $(STAMP) ## rewrite tests/snapshots/ (golden report, diff, simulate output) from the current output
	$(PYTEST) -q -p no:cacheprovider tests/unit/test_golden_snapshots.py tests/unit/simulate/test_plot.py --update-snapshots

test-e2e: $(STAMP) ## end-to-end tests on a kind cluster (needs docker or podman, kind, kubectl)
	$(BIN)/python -m tests.e2e.preflight
	$(PYTEST) -m e2e tests/e2e $(E2E_ARGS)

validator: ## build the upstream validator gitops judges with (kube-apiserver's own code; cached)
	$(PYTHON) tools/cluster/build.py --group validator

# `make setup` builds the validator when Go is present; without Go, gitops uses its Python fallback.
validator-if-go:
	@if command -v go >/dev/null 2>&1 || test -x /usr/local/go/bin/go; then \
		$(PYTHON) tools/cluster/build.py --group validator; \
	else \
		echo "setup: no Go found: gitops will validate with its Python fallback (install Go >= 1.26, then make validator)"; \
	fi

helm: ## build the pinned helm that renders charts (helmCharts, Argo CD chart sources; cached)
	$(PYTHON) tools/cluster/build.py --group helm

# `make setup` builds helm when Go is present; without Go (and without HELM or
# kustomize.helmCommand), a repository whose units need helm fails with one line naming them.
helm-if-go:
	@if command -v go >/dev/null 2>&1 || test -x /usr/local/go/bin/go; then \
		$(PYTHON) tools/cluster/build.py --group helm; \
	else \
		echo "setup: no Go found: charts cannot be rendered (install Go >= 1.26, then make helm; or set HELM=/path/to/helm)"; \
	fi

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

ci: ## what CI runs (.ci/run): lint, test, test-install, then check; stops at the first failure
	@$(PREREQUISITES)
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test-install
	@$(MAKE) --no-print-directory check

lint: $(STAMP) ## ruff, mypy strict (tools, apps, tests), actionlint with shellcheck (.github/workflows)
	$(BIN)/ruff check tools tests apps
	$(BIN)/ruff format --check tools tests apps
	$(BIN)/mypy
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck .github/workflows/*.yaml

diff: $(STAMP) ## rendered diff and findings of this branch (BASE=ref, DIFF_ARGS=...)
	@$(GITOPS) diff $(if $(BASE),--base $(BASE)) $(DIFF_ARGS)

BENCHMARKS := render diff validate validate_stream check simulate hostile memory validators charts
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

docs: $(STAMP) ## regenerate docs/rules.md, the README's pull-request comment sample and the simulate plots in docs/images/
	$(BIN)/python -m gitops.rules_doc > docs/rules.md
	$(BIN)/python -m tests.docs_samples
	@$(MAKE) --no-print-directory docs-images

docs-images: $(STAMP) ## redraw docs/images/simulate-*.png: one of each gitops simulate plot, from this repo
	$(GITOPS) simulate examples/simulate/healthz-day.yaml --plot docs/images/simulate-timeline.png >/dev/null
	$(GITOPS) simulate examples/simulate/one-sync-sidecar.yaml --plot docs/images/simulate-one-sync.png >/dev/null
	$(GITOPS) simulate drain --env prod --plot docs/images/simulate-drain.png >/dev/null
	$(GITOPS) simulate rollout --env prod --service healthz --plot docs/images/simulate-rollout.png >/dev/null

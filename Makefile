# Thin wrappers: each target is a one-liner calling the CLI or a tool.
VENV ?= .venv
PY := $(VENV)/bin/python
OBS := $(VENV)/bin/obsstack
PROFILE ?= production

.PHONY: help install components generate check validate test e2e cortex-e2e compose-e2e up down status verify bench demo

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml obsstack_fastapi/pyproject.toml
	scripts/install-system-deps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ./obsstack_fastapi
	$(PY) -m pip install -q -e '.[dev,demo]'
	touch $@

install: $(VENV)/.installed ## system tools, virtualenv, the library (obsstack_fastapi) and the project

components: install ## build Prometheus (with its UI), Alertmanager, the collector, Jaeger, VictoriaLogs, kubectl, cortextool and the checkers at the pinned versions (needs Go and npm; cached per user)
	$(OBS) components build

# Without a Docker engine, and without a Loki or Tempo binary on PATH, the demo's local run stores logs and
# traces in the licence-clean stores obsstack builds (VictoriaLogs, Jaeger). Only `up` sees the override, through
# the settings' OBSSTACK_* precedence, and records it for verify: the committed output (generate, validate)
# stays LGTM.
NO_DOCKER = $(shell docker info >/dev/null 2>&1 || echo yes)
DEMO_STORES = $(strip $(if $(NO_DOCKER),$(if $(shell command -v loki),,OBSSTACK_BACKENDS__LOGS=victorialogs) $(if $(shell command -v tempo),,OBSSTACK_BACKENDS__TRACES=jaeger)))
CLEAN_STORES = OBSSTACK_BACKENDS__TRACES=jaeger OBSSTACK_BACKENDS__LOGS=victorialogs

demo: install components generate validate ## set up, generate, validate and start the stack
	@$(if $(DEMO_STORES),echo "demo: no Docker engine and no Loki/Tempo binary: logs and traces go to the licence-clean stores ($(DEMO_STORES))")
	$(DEMO_STORES) $(OBS) up --profile $(PROFILE)

generate: install ## write alerts/, dashboards/, compose/ from stack.yaml
	$(OBS) generate

check: install ## fail if generated files are stale (for CI)
	$(OBS) generate --check

validate: install components ## promtool, amtool and compose config on the generated files
	$(OBS) validate

test: install components ## lint, type-check, check generated files, validate, run all tests, then the live e2e runs (local processes, then compose on a Docker engine)
	scripts/check-licences.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(OBS) generate --check
	$(OBS) validate
	$(VENV)/bin/pytest -q
	$(MAKE) e2e
	$(MAKE) cortex-e2e
	$(MAKE) compose-e2e

e2e: install components ## local stack on the licence-clean stores (fast profile) + verify every alert and the pipeline faults, then stop it; the report's screenshot (headless Chromium) in .obsstack/reports/
	export $(CLEAN_STORES); $(OBS) up --local --ephemeral --profile fast && \
	  $(OBS) verify --profile fast --strict --pipeline-faults --report-dir .obsstack/reports; \
	  rc=$$?; $(OBS) down; $(OBS) report --report-dir .obsstack/reports --screenshot || rc=1; exit $$rc

cortex-e2e: install components ## the mimir target loaded unchanged into a local ring of 3 Cortex processes: verify through it, SIGKILL one member, verify again, restart it
	$(PY) -m stack.runtime.cortex_e2e

compose-e2e: install components ## the generated compose file on a local Docker engine: stand-in images, the demo built on a debootstrap Python, licence-clean stores (Grafana, Loki, Tempo left out), verify, down
	$(PY) -m stack.runtime.compose_e2e

up: install ## start the stack (compose with a Docker engine, local processes without)
	$(DEMO_STORES) $(OBS) up --profile $(PROFILE)

down: install ## stop what `up` started
	$(OBS) down

status: install ## show what runs
	$(OBS) status

verify: install ## prove every alert fires on its fault against the running stack (with the profile it runs)
	$(OBS) verify

bench: install ## generator speed (ratios to Python start-up), then per-request overhead of the instrumentation (ratios to a bare app)
	$(PY) -m bench.generate
	$(PY) -m bench.overhead

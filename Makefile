# The two commands of the README: `make repro` and `make test`; `make help` lists every target.
# Each target is a line or two: the logic lives in scripts/ (the environment, the locks) and in the
# `rnncompare` commands (rnncompare/commands/), which `--help` explains.
PYTHON ?= python3
VENV := .venv
RUN := $(VENV)/bin/python -m rnncompare
PROFILE ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv repro test check baseline compare sweep tutorials promote ui server server-stop \
	server-upgrade server-remove push pull bench lint lock schema

help:  ## this list
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# .venv from this machine's lock file; GPU=1 the CUDA build, PYTHON= another interpreter (scripts/install.py).
$(VENV)/installed: FORCE
	@$(PYTHON) scripts/install.py $(if $(filter command line,$(origin PYTHON)),--python $(PYTHON)) $(if $(GPU),--gpu $(GPU))
venv: $(VENV)/installed  ## create .venv from the lock file, or bring it up to date (GPU=1: the CUDA build)
FORCE:

repro: $(VENV)/installed  ## run the pipeline (PROFILE=ci: as a DVC experiment, the workspace untouched)
	$(RUN) repro $(if $(PROFILE),--profile $(PROFILE)) $(if $(filter 0,$(PULL)),--no-pull) $(foreach s,$(SET),--set '$(s)')

test: $(VENV)/installed  ## the test suite in a shuffled order, files in parallel (TEST_WORKERS, TEST_ARGS)
	python -m pytest -n $(or $(TEST_WORKERS),auto) --dist loadfile --durations=10 $(TEST_ARGS)

check: $(VENV)/installed  ## the regression gate on the last run (PROFILE=ci: that profile's); table in reports/check.md
	$(RUN) check $(if $(PROFILE),--profile $(PROFILE)) --report reports/check.md

baseline: $(VENV)/installed  ## accept the last run's metrics (PROFILE=...) as the committed baseline
	$(RUN) check --refresh $(if $(PROFILE),--profile $(PROFILE))

compare: $(VENV)/installed  ## every task x variant over SEEDS training seeds, with statistics (PROFILE, SET, JOBS, COMPARISON, COLLECT)
	$(RUN) compare --seeds $(or $(SEEDS),5) --jobs $(or $(JOBS),1) --name $(or $(COMPARISON),seeds-$(shell date +%Y%m%d-%H%M%S)) \
		$(if $(PROFILE),--profile $(PROFILE)) $(foreach s,$(SET),--set '$(s)') $(if $(COLLECT),--collect-only)

sweep: $(VENV)/installed  ## a grid of DVC experiments: SWEEP="models.lstm.units=64,128" [JOBS=2] [PROFILE=ci]
	$(RUN) sweep $(foreach s,$(SWEEP),--set '$(s)') --jobs $(or $(JOBS),2) $(if $(PROFILE),--profile $(PROFILE))

tutorials: $(VENV)/installed  ## the original tutorials' recipes next to the modern defaults (slow)
	$(RUN) tutorials

promote: $(VENV)/installed  ## move a task's champion alias by hand: TASK=sum VERSION=3
	$(RUN) promote --task "$(TASK)" --version "$(VERSION)"

ui: $(VENV)/installed  ## browse the runs in MLflow's UI on http://127.0.0.1:5000 (UI_PORT=...)
	$(RUN) ui --port $(or $(UI_PORT),5000)

SERVER = $(RUN) server --port $(or $(SERVER_PORT),5001) --postgres-port $(or $(POSTGRES_PORT),55432)
server: $(VENV)/installed  ## a team's MLflow server on PostgreSQL (SERVER_HOST, SERVER_PORT, SERVER_ARGS)
	@$(SERVER) start --host $(or $(SERVER_HOST),127.0.0.1) --server-args="$(SERVER_ARGS)"
server-stop: $(VENV)/installed  ## stop it; its data stay
	$(SERVER) stop
server-upgrade: $(VENV)/installed  ## after an MLflow upgrade that changes its schema: back up, then migrate
	$(SERVER) upgrade
server-remove: $(VENV)/installed  ## stop it and delete its runs, artifacts and cluster (asks; YES=1 does not)
	$(SERVER) remove $(if $(YES),--yes)

push: $(VENV)/installed  ## data, models and run-cache entries to the default DVC remote
	$(RUN) push
pull: $(VENV)/installed  ## the same from it
	dvc pull --run-cache --allow-missing

bench: $(VENV)/installed  ## training throughput per variant next to plain PyTorch, and where the stages' time went
	python -m bench.run

lint: $(VENV)/installed  ## ruff, and actionlint on the GitHub workflows
	ruff check . && ruff format --check . && actionlint .github/workflows/*.yml

lock:  ## every lock file from pyproject.toml (needs uv)
	$(PYTHON) scripts/lock.py

schema: $(VENV)/installed  ## params.schema.json from rnncompare/config/params.py
	$(RUN) params schema

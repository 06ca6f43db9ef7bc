# The two commands: `make repro` and `make test`. Both create .venv from the lock file on first use.
#   make repro PROFILE=ci   writes profiles/ci.yaml over params.yaml, then runs `dvc repro`.
PYTHON ?= python3
VENV := .venv
PROFILE ?=
# One lock file per platform, each good for every Python in PYTHONS (`make lock` writes and checks
# them all); `uname` picks this machine's. GPU=1 installs TensorFlow with CUDA instead of the CPU
# build: requirements-gpu.lock, Linux x86-64 only.
PYTHONS := 3.11 3.12 3.13
UNAME_S := $(shell uname -s)
UNAME_M := $(shell uname -m)
PLATFORM := $(UNAME_S)-$(UNAME_M)
LOCK_Linux-x86_64 := requirements.lock
LOCK_Linux-aarch64 := requirements-linux-aarch64.lock
LOCK_Darwin-arm64 := requirements-macos-arm64.lock
# .venv/installed names the lock .venv came from (an empty stamp: this platform's CPU lock). Without
# GPU= on the command line, make keeps that build; GPU=1 or GPU=0 switches, rebuilding .venv from
# scratch: tensorflow-cpu and tensorflow[and-cuda] install the same package and cannot be swapped.
INSTALLED_FROM := $(if $(wildcard $(VENV)/installed),$(or $(shell cat $(VENV)/installed),$(LOCK_$(PLATFORM))))
GPU ?= $(if $(filter requirements-gpu.lock,$(INSTALLED_FROM)),1,0)
LOCK := $(if $(filter 1,$(GPU)),$(if $(filter Linux-x86_64,$(PLATFORM)),requirements-gpu.lock),$(LOCK_$(PLATFORM)))
OTHER_LOCK := $(filter-out $(LOCK),$(INSTALLED_FROM))
# PYTHON= on the command line picks .venv's interpreter: another version than .venv's rebuilds it.
VERSION_OF = $(shell $1 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
OTHER_PYTHON := $(if $(and $(filter command line,$(origin PYTHON)),$(wildcard $(VENV)/bin/python)),$(filter-out \
	$(call VERSION_OF,$(PYTHON)),$(call VERSION_OF,$(VENV)/bin/python)))
REBUILD := $(OTHER_LOCK)$(OTHER_PYTHON)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# One id per `make repro`: MLflow groups the runs of one pipeline execution under it.
export RNNCOMPARE_EXECUTION ?= $(shell date +%Y%m%dT%H%M%S)-make-$(shell echo $$PPID)
# The store the stages record into, unless MLFLOW_TRACKING_URI points elsewhere.
MLFLOW_STORE := $(or $(MLFLOW_TRACKING_URI),sqlite:///$(CURDIR)/mlflow.db)
UI_PORT ?= 5000

.PHONY: repro push pull sweep compare server server-stop server-upgrade presets check baseline promote reset-params bench test lint lock ui schema

# The project itself is installed editable (no download: setuptools is in the lock), so that
# `import rnncompare` works from any directory, in notebooks and scripts too.
# uv, where it is installed, puts the same pinned and hashed wheels in place in seconds (pip: a
# minute or two). Both compile the bytecode at install time: where PYTHONDONTWRITEBYTECODE is set
# (CI images, containers) nothing else would, and every stage would compile TensorFlow, Keras and
# MLflow again as it starts (about 5 s of each stage's start: bench/README.md).
UV := $(shell command -v uv 2>/dev/null)
PIN_INSTALL = $(if $(UV),$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python,$(VENV)/bin/pip \
	install --quiet --disable-pip-version-check) --require-hashes --no-deps -r $(LOCK)
# Without a lock for this platform or Python, say which there are before anything is installed.
NO_LOCK = $(if $(filter 1,$(GPU)),$(GPU_ONLY),$(NO_PLATFORM))
GPU_ONLY = GPU=1 needs Linux x86-64 (requirements-gpu.lock); this is $(PLATFORM): use GPU=0 for the CPU build.
NO_PLATFORM = No lock file for $(PLATFORM) (uname -s and -m). There are lock files for Linux-x86_64 ($(LOCK_Linux-x86_64)), \
	Linux-aarch64 ($(LOCK_Linux-aarch64)) and Darwin-arm64 ($(LOCK_Darwin-arm64)). To make one: give the Makefile \
	a LOCK_<platform> line and a line in its lock target, then run make lock.
PYTHON_CHECK = import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(None if v in "$(PYTHONS)".split() else \
	"$(PYTHON) is Python " + v + ": the lock files are for Python $(PYTHONS); name one, e.g. make PYTHON=python3.12")
$(VENV)/installed: $(LOCK) pyproject.toml $(if $(REBUILD),FORCE)
	@$(if $(LOCK),,echo '$(NO_LOCK)' >&2; exit 2)
	@$(PYTHON) -c '$(PYTHON_CHECK)'
	$(if $(OTHER_LOCK),@echo "$(VENV) came from $(OTHER_LOCK); rebuilding it from $(LOCK)")
	$(if $(OTHER_PYTHON),@echo "$(VENV) is Python $(OTHER_PYTHON); rebuilding it with $(PYTHON)")
	$(PYTHON) -m venv $(if $(REBUILD),--clear) $(VENV)
	$(PIN_INSTALL)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	echo $(LOCK) > $@
FORCE:

# params.yaml is validated (or the profile applied and validated) before DVC removes any output.
# A failed stage's last good outputs come back from the cache: `dvc checkout` puts the workspace
# back to what dvc.lock describes.
PARAMS_STEP = $(if $(PROFILE),python -m rnncompare.profiles profiles/$(PROFILE).yaml params.yaml,python -m rnncompare.profiles --check params.yaml)
REPRO_OR_RESTORE = || { status=$$?; echo "dvc repro failed: restoring the last good outputs (dvc checkout dvc.yaml)" >&2; \
	dvc checkout --quiet dvc.yaml || true; exit $$status; }

# With a default DVC remote (README, "Team setup"), repro runs `dvc repro --pull`: what
# unchanged stages need, and every stage someone pushed with these params and code (the run-cache),
# come from the remote instead of being recomputed. PULL=0 leaves the remote alone.
PULL ?= 1
REPRO_PULL = $$(test "$(PULL)" = 1 && dvc remote default >/dev/null 2>&1 && echo --pull)

repro: $(VENV)/installed
	$(PARAMS_STEP)
	dvc repro $(REPRO_PULL) $(REPRO_OR_RESTORE)

# Data, models and run-cache entries to and from the default DVC remote. The second step of push
# sends what the run-cache entries name that `dvc push` leaves out (rnncompare/runcache.py).
push: $(VENV)/installed
	dvc push --run-cache
	python -m rnncompare.runcache
pull: $(VENV)/installed
	dvc pull --run-cache --allow-missing

# The seed tutorials' recipes next to the modern defaults (presets/dvc.yaml; slow: 001 and 002
# train 10,000 steps each); everything they write lands in presets/results/<name>/.
# The report's presets section reads their results, no dependency of it (they may not exist): rerun it.
presets: $(VENV)/installed
	$(PARAMS_STEP)
	dvc repro presets/dvc.yaml
	dvc metrics show presets/results/*/metrics.json
	test ! -f reports/compare/index.md || dvc repro --force --single-item report $(REPRO_OR_RESTORE)

# The regression gate: fails when a metric is worse than params.yaml's check.baseline allows;
# the table lands in reports/check.md. PROFILE as for repro.
BASELINE = $$(python -c 'from rnncompare.config import load_params; print(load_params().check.baseline)')
check: $(VENV)/installed
	$(PARAMS_STEP)
	python -m stages.check --baseline "$(BASELINE)" --report reports/check.md

# Accept the current metrics as the new baseline (after a change meant to move them).
baseline: $(VENV)/installed
	$(PARAMS_STEP)
	python -m stages.check --refresh --baseline "$(BASELINE)"

# Put back the defaults that a profile replaced (its comments recorded them), even once committed.
reset-params: $(VENV)/installed
	python -m rnncompare.profiles --reset params.yaml

# Move a task's `champion` alias by hand: make promote TASK=sum VERSION=3. The champion's
# description and the report follow, and dvc.lock records them, so the next repro keeps it.
promote: $(VENV)/installed
	@test -n "$(TASK)" -a -n "$(VERSION)" || { echo "usage: make promote TASK=sum|mnist VERSION=<registered version>" >&2; exit 2; }
	python -m stages.register --task $(TASK) --promote $(VERSION) --out models/champion-$(TASK).json
	dvc commit --force --quiet register@$(TASK)
	dvc repro report

# Training throughput per variant, next to plain PyTorch when torch is installed, the CPU's vector
# features, the cores kept busy, and where the last `dvc repro`'s stages spent their time (bench/README.md).
bench: $(VENV)/installed
	python -m bench.run

# Browse the runs: http://127.0.0.1:$(UI_PORT); with MLFLOW_TRACKING_URI at a server, that server is the UI.
# MLflow 3 opens on its GenAI page: the addresses of the pipeline's runs come first (rnncompare/ui.py).
ui: export UI_STORE := $(MLFLOW_STORE)
ui: $(VENV)/installed
	-@python -m rnncompare.ui --store "$$UI_STORE" --port $(UI_PORT)
	@case "$$UI_STORE" in http://*|https://*) ;; \
	*) mlflow ui --backend-store-uri "$$UI_STORE" --host 127.0.0.1 --port $(UI_PORT);; esac

# A team's tracking server (README, Team setup): MLflow on PostgreSQL, everything in .mlflow-server/.
# It listens on 127.0.0.1 unless SERVER_HOST says otherwise; prints the MLFLOW_TRACKING_URI to export.
# SERVER_ARGS: more `mlflow server` arguments, e.g. "--app-name basic-auth" (README, Authentication).
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 5001
POSTGRES_PORT ?= 55432
SERVER_ARGS ?=
SERVER = python -m rnncompare.server --port $(SERVER_PORT) --postgres-port $(POSTGRES_PORT)
server: $(VENV)/installed
	@$(SERVER) --host $(SERVER_HOST) --server-args="$(SERVER_ARGS)" start
server-stop: $(VENV)/installed
	$(SERVER) stop
# After an MLflow upgrade that changes its schema: stop, back up (pg_dump), `mlflow db upgrade`.
server-upgrade: $(VENV)/installed
	$(SERVER) upgrade

# A grid of experiments through DVC's queue, JOBS at a time, e.g.
#   make sweep SWEEP="models.lstm.units=64,128,256"   or   make sweep SWEEP="train.seed=1,2,3" PROFILE=ci
# Each comma-separated value (and each combination of several SWEEP entries) is one experiment.
SWEEP ?=
JOBS ?= 2
sweep: $(VENV)/installed
	@test -n "$(SWEEP)" || { echo 'usage: make sweep SWEEP="models.lstm.units=64,128,256" [JOBS=2] [PROFILE=ci]' >&2; exit 2; }
	$(PARAMS_STEP)
	dvc exp run --queue $(foreach setting,$(SWEEP),--set-param '$(setting)')
	dvc exp run --run-all --jobs $(JOBS)
	dvc exp show --only-changed --drop '(?!Experiment$$|.*:test\.(accuracy|mae)$$|(sum|mnist|train|models)\.).*'

# Every task x variant under SEEDS training seeds (0..SEEDS-1), one DVC experiment each, everything
# else fixed; then means, 95% intervals and paired tests in reports/seeds/index.md (stages/compare.py).
#   make compare SEEDS=5 PROFILE=mnist-mini    or, for a quick look,    make compare PROFILE=ci SEEDS=3
# One experiment at a time unless JOBS says otherwise: each already keeps every core busy.
# SET="sum.train_lengths=[1,20]" changes params for every seed (space-separated KEY=VALUE entries).
# COMPARISON names it (default: seeds-<time>); COLLECT=1 only re-reads that comparison's finished experiments.
SEEDS ?= 5
SET ?=
COMPARISON ?= seeds-$(shell date +%Y%m%d-%H%M%S)
COLLECT ?=
compare: $(VENV)/installed
	$(PARAMS_STEP)
	python -m stages.compare --seeds $(SEEDS) --jobs $(if $(filter command line environment,$(origin JOBS)),$(JOBS),1) --name $(COMPARISON) \
		$(foreach setting,$(SET),'--set-param=$(setting)') $(if $(COLLECT),--collect-only) \
		--out reports/seeds$(if $(PROFILE),-$(PROFILE))

# Test files run in parallel (pytest-xdist), one file per worker: each file shares its fixtures.
TEST_WORKERS ?= auto
test: $(VENV)/installed
	python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=10

# params.schema.json, from rnncompare/config.py's classes: editors with the YAML language server
# check and complete params.yaml and profiles/*.yaml with it (their first line names it).
schema: $(VENV)/installed
	python -m rnncompare.params_schema

# actionlint checks the GitHub Actions workflows (their expressions, events and shell steps).
lint: $(VENV)/installed
	ruff check . && ruff format --check . && actionlint .github/workflows/*.yml

# Every lock file from pyproject.toml (needs uv: `pip install uv`), for the oldest Python in PYTHONS,
# then resolved again for each newer one with the lock as constraints: the same packages, each with a
# wheel for it (--only-binary; uv's hashes cover every file of a pinned version), so one lock serves
# every Python. The other locks take requirements.lock's versions: every platform runs the same code.
# antlr4-python3-runtime (DVC's Hydra) publishes a source distribution only, pure Python.
UV_COMPILE := uv pip compile pyproject.toml --extra dev --generate-hashes --quiet --only-binary :all: \
	--no-binary antlr4-python3-runtime --custom-compile-command "make lock"
PINS = grep -E '^[a-z0-9]' $1 | cut -d' ' -f1
# $(call LOCK_ONE,file,uv's platform,extra)
# The lock is resolved in a copy (uv keeps the copy's pins) and replaces $1 only if it differs:
# an unchanged lock keeps its date, so the next make does not rebuild .venv.
LOCK_ONE = @echo "$1: $2, Python $(PYTHONS)" && tmp=$$(mktemp -d) && { test ! -f $1 || cp $1 $$tmp/lock; } && \
	$(UV_COMPILE) --python-platform $2 --extra $3 --python-version $(firstword $(PYTHONS)) \
		$(if $(filter-out requirements.lock,$1),-c requirements.lock) -o $$tmp/lock && \
	for py in $(wordlist 2,$(words $(PYTHONS)),$(PYTHONS)); do \
		$(UV_COMPILE) --python-platform $2 --extra $3 --python-version $$py -c $$tmp/lock --no-header -o $$tmp/$$py && \
		$(call PINS,$$tmp/lock) > $$tmp/pins && $(call PINS,$$tmp/$$py) | diff $$tmp/pins - || \
		{ echo "$1 does not hold for Python $$py (above: what it would need)" >&2; rm -rf $$tmp; exit 1; }; \
	done && { cmp -s $$tmp/lock $1 && echo "$1: unchanged" || cp $$tmp/lock $1; } && rm -rf $$tmp
# Linux with glibc 2.28 or later (x86-64, aarch64), macOS 13 or later on Apple silicon.
lock: export MACOSX_DEPLOYMENT_TARGET := 13.0
lock:
	$(call LOCK_ONE,requirements.lock,x86_64-manylinux_2_28,cpu)
	$(call LOCK_ONE,requirements-gpu.lock,x86_64-manylinux_2_28,gpu)
	$(call LOCK_ONE,requirements-linux-aarch64.lock,aarch64-manylinux_2_28,cpu)
	$(call LOCK_ONE,requirements-macos-arm64.lock,aarch64-apple-darwin,cpu)

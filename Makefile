# Everything a fresh clone needs: `make run` serves in dev mode, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact versions (with hashes) of everything installed; `make lock` refreshes them (see README).
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK     := requirements/dev.txt
BENCH_LOCK   := bench/requirements.lock

.PHONY: run test lint fmt install check-config clean proto lock browser schema

# The dependencies come from the lock (pip checks every hash); the project itself is installed on top,
# editable, without letting pip resolve anything again.
$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Dev mode: mock auth and rewards unless the caller says otherwise; embedded PostgreSQL when
# DATABASE_URL is unset.
run: $(STAMP)
	PLUGIN_GRPC_SERVER_AUTH_ENABLED=$${PLUGIN_GRPC_SERVER_AUTH_ENABLED:-false} \
	REWARD_CLIENT_MODE=$${REWARD_CLIENT_MODE:-mock} \
	LOG_FORMAT=$${LOG_FORMAT:-console} \
	$(BIN)/challenge-service serve

# Lint first (cheap, catches most slips), then the whole suite against a real PostgreSQL.
test: lint browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The API page's browser test drives headless Chromium (Debian's package): installed when missing if
# apt-get can (as root). Without it that one test is skipped on a dev box, and fails in CI (CI=true).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "chromium is not installed and cannot be (needs root and apt-get): the browser test will be skipped"; \
	  fi; }

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

check-config: $(STAMP)
	$(BIN)/challenge-service check-config $(or $(FILE),challenges.json)

# Regenerate challenges.schema.json from the catalog model (a test fails when the committed one is stale).
schema: $(STAMP)
	$(BIN)/python -m challenge_service.catalog.schema challenges.schema.json

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# Refresh the lock files from pyproject.toml and bench/requirements.txt: run it after changing a
# dependency there. Pins stay where they are unless a changed requirement moves them; UPGRADE=1 moves
# every pin to the newest version the requirements allow. The runtime lock is resolved first and
# constrains the dev lock, which constrains the bench lock, so a package has one version everywhere.
# Universal: one lock for every platform and every Python >= 3.11.
UV_VERSION := 0.13.8
COMPILE     = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
              $(if $(call _yes,$(UPGRADE)),--upgrade)
lock: $(STAMP)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(COMPILE) pyproject.toml -o $(RUNTIME_LOCK)
	$(COMPILE) pyproject.toml --extra dev --extra embedded -c $(RUNTIME_LOCK) -o $(DEV_LOCK)
	$(COMPILE) bench/requirements.txt -c $(DEV_LOCK) -o $(BENCH_LOCK)

# Regenerate the committed protobuf/grpclib modules from proto/ (see proto/README.md).
proto: $(STAMP)
	bash proto/generate.sh

# Load benchmark (docs/performance.md). Everything it starts it stops again; results go to
# bench/results/<timestamp>/report.md. Knobs: SCENARIO(S)=sessions|api|events|batch|combined|connections
# (comma list), VUS, EVENT_RATE, REQUEST_RATE, BATCH_RATE, BATCH_SIZE, CONNECTIONS, DURATION (per
# scenario, e.g. 10m), ACK_MODE=durable|buffered, QUICK=1 (≈ 2 minutes), PROFILE=1 (py-spy flame
# graph), STEP_RATES, STEP_DURATION, BENCH_ARGS.
.PHONY: bench bench-compare bench-install bench-publish
SCENARIO      ?= sessions
SCENARIOS     ?= $(SCENARIO)
VUS           ?= 150
EVENT_RATE    ?= 500
REQUEST_RATE  ?= 1000
BATCH_RATE    ?= 10000
BATCH_SIZE    ?= 100
CONNECTIONS   ?=
DURATION      ?=
ACK_MODE      ?= durable
QUICK         ?=
PROFILE       ?=
STEP_RATES    ?=
STEP_DURATION ?=
BENCH_STAMP   := $(VENV)/.bench-installed
_yes = $(filter 1 yes true,$(1))

$(BENCH_STAMP): $(STAMP) $(BENCH_LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(BENCH_LOCK)
	touch $(BENCH_STAMP)

bench-install: $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --scenarios $(SCENARIOS) --vus $(VUS) --event-rate $(EVENT_RATE) \
		--request-rate $(REQUEST_RATE) --batch-rate $(BATCH_RATE) --batch-size $(BATCH_SIZE) \
		$(if $(CONNECTIONS),--connections $(CONNECTIONS)) --ack-mode $(ACK_MODE) \
		$(if $(DURATION),--duration $(DURATION)) $(if $(call _yes,$(QUICK)),--quick) \
		$(if $(call _yes,$(PROFILE)),--profile) $(if $(STEP_RATES),--step-rates $(STEP_RATES)) \
		$(if $(STEP_DURATION),--step-duration $(STEP_DURATION)) $(BENCH_ARGS)

# Copy a run's report and the charts it links into bench/reports/$(NAME)/.
bench-publish: $(BENCH_STAMP)
	$(BIN)/python bench/publish.py $(RUN) $(NAME)

# Per-metric ratios B ÷ A between two result directories (reads their collected.json).
bench-compare: $(BENCH_STAMP)
	$(BIN)/python bench/compare.py $(A) $(B)

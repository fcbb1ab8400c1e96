# Two commands set up everything on a fresh machine:
#   make demo   runs the main job on the shipped defaults
#   make test   runs the test suite
# Both create the virtual environment and install what is missing, system packages included.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SYSTEM_PACKAGES = espeak-ng flite sox libportaudio2 mosquitto

.PHONY: setup system-packages demo test lint check clean

setup: system-packages $(VENV)/.installed

system-packages:
	@scripts/install-system-packages.sh $(SYSTEM_PACKAGES)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,train]'
	touch $@

demo: setup
	$(BIN)/assistant profiles
	$(BIN)/assistant simulate --script examples/scenarios/smartwatch.yaml
	$(BIN)/assistant parse --device smart_speaker --file examples/kitchen_commands.txt

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check assistant tests
	$(BIN)/ruff format --check assistant tests
	$(BIN)/mypy

check: lint test

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache

# BenchHub. `make demo` sets up and runs the main job; `make test` runs the whole suite.
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup setup-test demo test lint unit e2e bench bench-run bench-run-memory bench-compare bench-detect bench-scale bench-instructions bench-parsers bench-agent bench-central bench-backup bench-jobs openapi dashboards down clean

setup:
	bash stack/install.sh

setup-test:
	bash stack/install.sh --test

demo: setup
	bash stack/demo.sh

test: setup-test lint
	$(BIN)/python -m pytest

unit: setup-test
	$(BIN)/python -m pytest -m "not e2e"

e2e: setup
	$(BIN)/python -m pytest -m e2e

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bench-run bench-run-memory bench-compare bench-detect bench-parsers bench-agent bench-central bench-backup bench-scale bench-instructions bench-jobs

bench-run: setup
	$(BIN)/python -m tests.bench.run_overhead

bench-run-memory: setup  # bhubctl run of a 200 MB output and of 1,000,000 results: peak RSS
	$(BIN)/python -m tests.bench.run_memory

bench-compare: setup  # central compares two runs of 10,000 results x 100 samples; bhubctl compare
	$(BIN)/python -m tests.bench.compare

bench-detect: setup-test  # change-point detectors on labelled histories: ours, asv, ruptures, the old rule
	$(BIN)/python -m tests.bench.detect
	$(BIN)/python -m tests.bench.detect_incremental

bench-instructions: setup  # CV of wall time vs instructions over 10 repeats of the demo's gofmt target
	$(BIN)/python -m tests.bench.instructions

bench-scale: setup-test  # dashboard and rule queries on 1,000 benchmarks x 60/240/960 runs: old layout vs new
	$(BIN)/python -m tests.bench.scale

bench-parsers: setup
	$(BIN)/python -m tests.bench.parsers

bench-jobs: setup-test  # 1,000 tiny jobs through 4 agent processes: jobs/s, submit-to-start p50/p99
	$(BIN)/python -m tests.bench.jobs

bench-central: setup
	$(BIN)/python -m tests.bench.central_api

# node_exporter is only the yardstick here, not a dependency of BenchHub.
bench-agent: setup
	command -v prometheus-node-exporter >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-node-exporter)
	$(BIN)/python -m tests.bench.agent_scrape

# After a deliberate change of central's API: refresh the snapshot the tests pin it with.
bench-backup: setup  # back up and restore 1M samples of one org through a real S3 server
	$(BIN)/python -m tests.bench.backup

openapi: setup
	$(BIN)/python -m tests.central.openapi_snapshot

dashboards: setup  # regenerate dashboards/json/*.json and provisioning/vmalert/rules.yml
	$(BIN)/python -m dashboards

down:
	$(BIN)/bhubctl stack down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

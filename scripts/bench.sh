#!/usr/bin/env bash
# Benchmarks (not tests): builds the extension, then measures it in the real browser
# against its baselines. Prints a table; writes tests/bench/output/bench.json.
# Pass --quick for a short smoke run of the harness itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/e2e-setup.sh
cargo build --release --locked
node tests/bench/run.mjs "$@"

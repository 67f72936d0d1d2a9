#!/usr/bin/env bash
# Command one: build the extension into dist/extension/ and serve the demo chat with
# its built-in local model on http://127.0.0.1:8787/ (`keyfob demo`; extra arguments such as
# `--port N` go to it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/www-bundle.sh
exec cargo run --release --locked -- demo "$@"

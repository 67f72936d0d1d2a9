#!/usr/bin/env bash
# Command one: build the extension into dist/extension/ and serve the demo chat with
# its built-in local model on http://127.0.0.1:8787/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f www/vendor/openai.js ] || [ www/package-lock.json -nt www/vendor/openai.js ]; then
  echo "demo: bundling the official SDKs for the demo page"
  (cd www && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; } && npm run --silent bundle)
fi
exec cargo run --release --locked -- "$@"

#!/usr/bin/env bash
# Bundles the official SDKs the demo chat imports into www/vendor/. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../www"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --silent
fi
if [ ! -f vendor/openai.js ] || [ package-lock.json -nt vendor/openai.js ]; then
  npm run --silent bundle >/dev/null
fi

#!/usr/bin/env bash
# Command two: every test suite — native (cargo test), WASM in headless Chromium
# (wasm-bindgen-test), and browser E2E through the real extension (playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-setup.sh

echo "== native tests (cargo test) =="
cargo test --workspace --locked

echo "== wasm tests (wasm-bindgen-test, headless Chromium) =="
CHROMEDRIVER=$(command -v chromedriver) \
WASM_BINDGEN_TEST_TIMEOUT=120 \
  cargo test --locked -p keyfob-core -p keyfob-wasm --target wasm32-unknown-unknown

echo "== browser E2E (the extension exactly as built) =="
cargo build --locked   # leaves dist/extension/
node tests/e2e/run.mjs

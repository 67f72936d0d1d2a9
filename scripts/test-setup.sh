#!/usr/bin/env bash
# Test-only tools: wasm-bindgen's test runner at the exact version of the wasm-bindgen
# crate, and the E2E harness's npm packages. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
installed=$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)
if [ "$installed" != "$version" ]; then
  echo "setup: installing wasm-bindgen-cli $version (test runner; takes a few minutes once)"
  # --locked fails on this registry (a pinned dependency is missing); see HOUSE_STYLE.
  cargo install wasm-bindgen-cli --version "=$version" --quiet
fi

scripts/e2e-setup.sh
scripts/www-bundle.sh

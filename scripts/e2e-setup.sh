#!/usr/bin/env bash
# Prepares the browser E2E harness in tests/e2e: its npm dependencies and the official SDKs
# bundled for the test pages (tests/e2e/pages/vendor/). Idempotent: does nothing when both are
# up to date. Chromium, chromium-driver and openssl come from scripts/setup.sh (apt).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
e2e="$root/tests/e2e"
cd "$e2e"

# npm writes node_modules/.package-lock.json on every install: it is the install's timestamp.
installed=node_modules/.package-lock.json
if [[ ! -f "$installed" || package-lock.json -nt "$installed" || package.json -nt "$installed" ]]; then
  echo "e2e-setup: npm ci in tests/e2e"
  npm ci --no-audit --no-fund
fi

stamp=pages/vendor/.stamp
if [[ ! -f "$stamp" || "$installed" -nt "$stamp" || package-lock.json -nt "$stamp" || build-vendor.mjs -nt "$stamp" ]]; then
  echo "e2e-setup: bundling the SDKs into tests/e2e/pages/vendor/"
  node build-vendor.mjs
fi

# The Python SDKs for the bridge suite, in a venv of their own.
venv=.venv
if [[ ! -x "$venv/bin/python" ]]; then
  echo "e2e-setup: python3 -m venv tests/e2e/.venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 keeps venv in a package of its own.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
fi
if [[ ! -f "$venv/.stamp" || requirements.txt -nt "$venv/.stamp" ]]; then
  echo "e2e-setup: pip install -r tests/e2e/requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
  touch "$venv/.stamp"
fi

for tool in chromium openssl; do
  command -v "$tool" >/dev/null || echo "e2e-setup: warning: $tool not found (scripts/setup.sh installs it)" >&2
done

// Runs every tests/e2e/*.test.mjs serially (each file launches its own Chromium) with node's
// test runner and its TAP reporter, which ends with `# pass N` / `# fail N`.
// Usage: node run.mjs [name-filter ...]   e.g. `node run.mjs smoke` runs smoke.test.mjs only.
// Extra node --test flags may follow `--`, e.g. `node run.mjs -- --test-name-pattern=abort`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTENSION_DIR } from './lib/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const filters = dash === -1 ? argv : argv.slice(0, dash);
const nodeFlags = dash === -1 ? [] : argv.slice(dash + 1);

const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test file matches ${filters.join(' ')}`);
  process.exit(2);
}
if (!existsSync(join(EXTENSION_DIR, 'manifest.json'))) {
  console.error(`warning: ${EXTENSION_DIR}/manifest.json is missing: build the extension first (cargo build)`);
}
if (!existsSync(join(here, 'pages', 'vendor', 'openai.js'))) {
  console.error('warning: pages/vendor/ is missing: run scripts/e2e-setup.sh');
}

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-reporter=tap', '--test-timeout=300000', ...nodeFlags, ...files],
  { cwd: here, stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : code ?? 1));

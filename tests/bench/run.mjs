// Keyfob's benchmark harness (separate from the tests: nothing here asserts a time).
// One run measures every figure against its baseline in the real browser with the real
// extension, prints a table and writes tests/bench/output/bench.json.
// Usage: node tests/bench/run.mjs [--quick]   (scripts/bench.sh builds first)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHarness } from '../e2e/lib/fixture.mjs';
import { approveNext, openWallet } from '../e2e/lib/wallet.mjs';
import { freePort, measureBridge } from './bridge.mjs';
import { measureColdStart } from './coldstart.mjs';
import { measureConcurrency } from './concurrency.mjs';
import { measureLatency } from './latency.mjs';
import { measureMemory } from './memory.mjs';
import { measureRouting } from './routing.mjs';
import { measureSize } from './size.mjs';
import { measureStreaming } from './streaming.mjs';
import { measureUnlock } from './unlock.mjs';
import { measureUpload } from './upload.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
// `--only latency,unlock` runs just those sections.
const onlyArg = process.argv.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.split('=')[1] ?? process.argv[process.argv.indexOf(onlyArg) + 1] ?? '').split(',') : null;

function printTable(rows) {
  const fmt = (v) => (typeof v !== 'number' ? v ?? '' : Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  const cols = ['metric', 'n', 'median', 'p99', 'unit', 'ratio', 'goal'];
  const cells = rows.map((r) => cols.map((c) => String(fmt(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals) => vals.map((v, i) => v.padEnd(widths[i])).join(' | ');
  console.log(line(cols));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of cells) console.log(line(row));
}

const PASSWORD = 'benchmark master password';

async function connectedPage(h) {
  const wallet = await openWallet(h.browser);
  await wallet.create(PASSWORD);
  await wallet.addCredential({ provider: 'openai', label: 'Bench', secret: 'sk-proj-bench-0000000000000000' });
  const page = await h.newPage('/');
  const approval = approveNext(h.browser.context);
  await page.evaluate(() => window.keyfob.connect({ providers: [{ id: 'openai', required: true }] }).then(() => true));
  await approval;
  // The upload case posts to /v1/files, a surface that is off until ticked for the site.
  await wallet.call('grants.setPolicy', { origin: new URL(page.url()).origin, policy: { surfaces: ['files'] } });
  return { page, wallet };
}

/** Runs one measurement, timing it; a failure is reported in the table, not fatal. */
async function section(name, fn) {
  if (only && !only.includes(name)) return [];
  const t0 = Date.now();
  try {
    const out = await fn();
    console.error(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  } catch (error) {
    console.error(`bench: ${name} FAILED: ${error.stack ?? error}`);
    return [{ metric: `${name}: FAILED (${String(error.message ?? error).slice(0, 80)})` }];
  }
}

const started = Date.now();
// The bridge section's native host listens where Chromium's environment says.
const bridgePort = await freePort();
const h = await startHarness({ launch: { env: { KEYFOB_BRIDGE_PORT: String(bridgePort) } } });
const rows = [];
try {
  const { page, wallet } = await connectedPage(h);
  const q = (small, full) => (quick ? small : full);
  rows.push(...(await section('size', async () => measureSize())));
  rows.push(...(await section('memory', () => measureMemory(h, page, { n: q(100, 1000) }))));
  rows.push(...(await section('latency', () => measureLatency(page, q({ pairs: 50, trend: 300 }, {})))));
  rows.push(...(await section('streaming', () => measureStreaming(page, q({ n: 20, bytes: 2 << 20, runs: 1 }, {})))));
  rows.push(...(await section('routing', () => measureRouting(page, wallet, q({ n: 30, runs: 1 }, {})))));
  rows.push(...(await section('bridge', () => measureBridge(h, wallet, { port: bridgePort, ...q({ n: 30, runs: 1 }, { n: 200, runs: 3 }) }))));
  rows.push(...(await section('upload', () => measureUpload(page, q({ bytes: 2 << 20, runs: 2 }, {})))));
  rows.push(...(await section('concurrency', () => measureConcurrency(h, q({ rounds: 1 }, {})))));
  rows.push(...(await section('cold start', () => measureColdStart(h, page, q({ runs: 2 }, {})))));
  rows.push(...(await section('unlock', () => measureUnlock(h, wallet, PASSWORD, q({ runs: 2 }, {})))));
} finally {
  await h.teardown();
}
printTable(rows);
mkdirSync(join(here, 'output'), { recursive: true });
writeFileSync(join(here, 'output', 'bench.json'), JSON.stringify({ when: new Date().toISOString(), quick, rows }, null, 2));
console.log(`\nwrote tests/bench/output/bench.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);

// Keyfob's benchmark harness (separate from the tests: nothing here asserts a time).
// One run measures every figure against its baseline in the real browser with the real
// extension, prints a table and writes tests/bench/output/bench.json.
// Usage: node tests/bench/run.mjs [--quick]   (scripts/bench.sh builds first)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHarness } from '../e2e/lib/fixture.mjs';
import { approveNext, openWallet } from '../e2e/lib/wallet.mjs';
import { measureLatency } from './latency.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

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

async function connectedPage(h) {
  const wallet = await openWallet(h.browser);
  await wallet.create('benchmark master password');
  await wallet.addCredential({ provider: 'openai', label: 'Bench', secret: 'sk-proj-bench-0000000000000000' });
  const page = await h.newPage('/');
  const approval = approveNext(h.browser.context);
  await page.evaluate(() => window.keyfob.connect({ providers: [{ id: 'openai', required: true }] }).then(() => true));
  await approval;
  return page;
}

const started = Date.now();
const h = await startHarness();
const rows = [];
try {
  const page = await connectedPage(h);
  rows.push(...(await measureLatency(page, quick ? { pairs: 50, trend: 300 } : {})));
} finally {
  await h.teardown();
}
printTable(rows);
mkdirSync(join(here, 'output'), { recursive: true });
writeFileSync(join(here, 'output', 'bench.json'), JSON.stringify({ when: new Date().toISOString(), quick, rows }, null, 2));
console.log(`\nwrote tests/bench/output/bench.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);

// Unlock: Argon2id at the vault's default parameters, three ways, median of 5 each:
// in the extension's service worker (the `vault.unlock` command, end to end), in a native
// release build of the same keyfob-core code, and with the hash-wasm npm package in a page
// of the same Chromium.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../e2e/lib/browser.mjs';
import { median } from './stats.mjs';

export async function measureUnlock(h, wallet, password, { runs = 5 } = {}) {
  const sw = [];
  for (let i = 0; i < runs; i++) {
    await wallet.lock();
    const t0 = performance.now();
    await wallet.unlock(password);
    sw.push(performance.now() - t0);
  }

  const nativeOut = execFileSync('cargo', ['run', '--quiet', '--release', '--locked', '-p', 'keyfob-core', '--example', 'kdf_timing', '--', String(runs)], { cwd: REPO_ROOT, encoding: 'utf8' });
  const native = JSON.parse(nativeOut).ms;

  const page = await h.newPage('/');
  const script = readFileSync(join(REPO_ROOT, 'tests/e2e/node_modules/hash-wasm/dist/argon2.umd.min.js'), 'utf8');
  await page.addScriptTag({ content: script });
  const hw = await page.evaluate(async (n) => {
    const out = [];
    const salt = new Uint8Array(16).fill(7);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await hashwasm.argon2id({ password: 'benchmark master password', salt, parallelism: 1, iterations: 3, memorySize: 65536, hashLength: 32, outputType: 'binary' });
      out.push(performance.now() - t0);
    }
    return out;
  }, runs);
  await page.close();

  const s = median(sw);
  const n = median(native);
  const w = median(hw);
  return [
    { metric: 'unlock, Argon2id m=64 MiB t=3 p=1, native release', unit: 'ms', n: runs, median: n },
    { metric: 'unlock, in the service worker (command round trip)', unit: 'ms', n: runs, median: s, ratio: s / n, goal: '≤ 1.2× native' },
    { metric: 'unlock, hash-wasm argon2id in a page', unit: 'ms', n: runs, median: w, ratio: w / n },
  ];
}

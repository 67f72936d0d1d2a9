// Size: the .wasm raw and gzipped, dist/extension/ in total, and the packaged zip
// (deflate, as the Chrome Web Store upload would be).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EXTENSION_DIR } from '../e2e/lib/browser.mjs';

function treeBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? treeBytes(path) : statSync(path).size;
  }
  return total;
}

export function measureSize() {
  const wasm = readFileSync(join(EXTENSION_DIR, 'wasm', 'keyfob_wasm_bg.wasm'));
  const zip = join(tmpdir(), `keyfob-${process.pid}.zip`);
  execFileSync('python3', ['-c', `
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for d, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, root))
`, EXTENSION_DIR, zip]);
  const kb = (b) => b / 1024;
  return [
    { metric: '.wasm raw', unit: 'KB', median: kb(wasm.length) },
    { metric: '.wasm gzip -9', unit: 'KB', median: kb(gzipSync(wasm, { level: 9 }).length) },
    { metric: 'dist/extension/ total', unit: 'KB', median: kb(treeBytes(EXTENSION_DIR)) },
    { metric: 'packaged zip', unit: 'KB', median: kb(statSync(zip).size), goal: '≤ 150 KB' },
  ];
}

// Bundles each official SDK into one browser ESM file under pages/vendor/, so the test pages
// can `import` them without a bundler or an import map. Run by scripts/e2e-setup.sh when the
// bundles are missing or older than package-lock.json or this file.
import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'pages', 'vendor');

/** Output file → the module text that re-exports what the pages use. */
export const BUNDLES = {
  'openai.js': `export { default as OpenAI } from 'openai'; export * from 'openai';`,
  'anthropic.js': `export { default as Anthropic } from '@anthropic-ai/sdk'; export * from '@anthropic-ai/sdk';`,
  'genai.js': `export * from '@google/genai';`,
  'ai.js': [
    `export { generateText, streamText } from 'ai';`,
    `export { createOpenAI } from '@ai-sdk/openai';`,
    `export { createAnthropic } from '@ai-sdk/anthropic';`,
  ].join('\n'),
};

await mkdir(outDir, { recursive: true });
for (const [file, contents] of Object.entries(BUNDLES)) {
  await build({
    stdin: { contents, resolveDir: here, sourcefile: `vendor-${file}`, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: join(outDir, file),
    logLevel: 'warning',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
}
// The stamp lets e2e-setup.sh tell whether the bundles are older than their inputs.
await writeFile(join(outDir, '.stamp'), `${new Date().toISOString()}\n`);
console.log(`vendor bundles written to ${outDir}: ${Object.keys(BUNDLES).join(', ')}`);

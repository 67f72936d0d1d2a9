// The README's demo, end to end: the `keyfob` binary serves www/ and its built-in
// OpenAI-compatible demo model; the user adds a key for it in the real extension, the demo
// chat connects, the approval window grants it, and an answer streams into the page through
// the extension with the official OpenAI SDK. The demo model must receive the stored key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from './lib/browser.mjs';
import { startHarness } from './lib/fixture.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const BINARY = join(REPO_ROOT, 'target', 'debug', 'keyfob');
const PASSWORD = 'demo password for e2e';

/** Starts the demo server on a free port and resolves once it prints its instructions. */
function startDemo() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(BINARY, ['demo', '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr.on('data', (d) => {
      log += d;
      if (log.includes('3. Open')) resolve({ child, port, log: () => log });
    });
    child.on('exit', (code) => reject(new Error(`demo exited ${code}: ${log}`)));
  });
}

describe('demo: the www chat streams an answer from the built-in model through Keyfob', () => {
  let h;
  let demo;
  before(async () => {
    assert.ok(existsSync(BINARY), `${BINARY} is missing: run cargo build`);
    demo = await startDemo();
    h = await startHarness();
  });
  after(async () => {
    await h?.teardown();
    demo?.child.kill();
  });

  test('connect, approve, chat: the answer streams in and the page never holds the key', async () => {
    const wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    const key = `demo-key-${Math.random().toString(36).slice(2)}`;
    await wallet.call('credentials.add', {
      provider: 'openai_compatible',
      label: 'Demo model',
      secret: key,
      baseUrl: `http://127.0.0.1:${demo.port}/v1`,
    });

    const page = await h.browser.context.newPage();
    await page.goto(`http://127.0.0.1:${demo.port}/`);
    await page.getByText(/Keyfob .* found/).waitFor();
    const approval = approveNext(h.browser.context);
    await page.getByRole('button', { name: 'Connect Keyfob' }).click();
    const shown = await approval;
    assert.ok(shown.text?.includes(`http://127.0.0.1:${demo.port}`) ?? true);
    await page.getByText('Connected.').waitFor();

    await page.getByPlaceholder('Say something').fill('What is Keyfob?');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.locator('#log li.assistant').last();
    // The demo model streams word by word; wait for its last words.
    await answer.getByText(/never saw that key\.$/).waitFor({ timeout: 30_000 });
    const text = await answer.innerText();
    assert.match(text, /^Hello from Keyfob's demo model\. You wrote: “What is Keyfob\?”\./);

    assert.ok(demo.log().includes(`POST /v1/chat/completions with key …${key.slice(-4)}`), demo.log());
    const html = await page.content();
    assert.ok(!html.includes(key), 'the page DOM holds the stored key');
  });
});

// Smoke test of the real extension: the service worker starts, the vault goes through its
// states, a wrong password is refused, and a service-worker restart keeps the wallet unlocked
// (the derived key lives in chrome.storage.session) with its credentials, never their secrets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { openWallet } from './lib/wallet.mjs';

const PASSWORD = 'correct horse battery staple';
const WRONG = 'incorrect horse';
// Random per run, so a secret found in a reply can only have come from this vault.
const RANDOM = { openai: randomBytes(18).toString('hex'), anthropic: randomBytes(18).toString('hex') };
const SECRETS = {
  openai: `sk-proj-e2e${RANDOM.openai}`,
  anthropic: `sk-ant-api03-e2e${RANDOM.anthropic}`,
};

/**
 * Fails if a secret, or any 8 consecutive characters of its random part, appears anywhere
 * in `value`. A masked key may show a known prefix and the last few characters, no more.
 */
function assertNoSecret(value, what) {
  const text = JSON.stringify(value);
  for (const [provider, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `${what} contains the ${provider} secret`);
    const random = RANDOM[provider];
    for (let i = 0; i + 8 <= random.length; i += 1) {
      assert.ok(!text.includes(random.slice(i, i + 8)), `${what} contains part of the ${provider} secret`);
    }
  }
}

describe('smoke: vault lifecycle and a service-worker restart', () => {
  let h;
  let wallet;
  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
  });
  after(async () => {
    await h?.teardown();
  });

  test('the extension service worker starts', async () => {
    assert.match(h.browser.extensionId, /^[a-p]{32}$/);
    assert.equal(await h.browser.serviceWorkerStatus(), 'running');
  });

  test('a new profile has no vault', async () => {
    assert.equal(await wallet.state(), 'missing');
  });

  test('create → unlocked', async () => {
    await wallet.create(PASSWORD);
    assert.equal(await wallet.state(), 'unlocked');
  });

  test('lock → locked', async () => {
    await wallet.lock();
    assert.equal(await wallet.state(), 'locked');
  });

  test('a wrong password is refused with WRONG_PASSWORD and the vault stays locked', async () => {
    const error = await wallet.expectError('vault.unlock', { password: WRONG });
    assert.equal(error.code, 'WRONG_PASSWORD');
    assert.equal(await wallet.state(), 'locked');
  });

  test('the right password unlocks', async () => {
    await wallet.unlock(PASSWORD);
    assert.equal(await wallet.state(), 'unlocked');
  });

  test('credentials are added and listed without their secrets', async () => {
    const openai = await wallet.addCredential({ provider: 'openai', label: 'E2E OpenAI', secret: SECRETS.openai });
    const anthropic = await wallet.addCredential({ provider: 'anthropic', label: 'E2E Anthropic', secret: SECRETS.anthropic });
    assert.equal(typeof openai.id, 'string');
    assert.equal(typeof anthropic.id, 'string');
    assert.notEqual(openai.id, anthropic.id);

    const reply = await wallet.send('credentials.list');
    assert.equal(reply.ok, true);
    assertNoSecret(reply, 'credentials.list');
    const byId = new Map(reply.value.map((c) => [c.id, c]));
    assert.equal(byId.get(openai.id)?.provider, 'openai');
    assert.equal(byId.get(openai.id)?.label, 'E2E OpenAI');
    assert.equal(byId.get(anthropic.id)?.provider, 'anthropic');
    assert.equal(typeof byId.get(anthropic.id)?.maskedKey, 'string');
  });

  test('after a service-worker restart the wallet is still unlocked and keeps its credentials', async () => {
    const before = await wallet.listCredentials();
    await h.browser.serviceWorker.evaluate(() => {
      globalThis.__keyfobSmokeProbe = 1;
    });

    await h.browser.stopServiceWorker();
    assert.equal(await h.browser.serviceWorkerStatus(), 'stopped');

    // The wake-up message is itself the first command the new worker answers.
    const first = await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    assert.equal(first?.ok, true, `vault.status after restart: ${JSON.stringify(first)}`);
    assert.equal(first.value.state, 'unlocked');
    assert.equal(await h.browser.serviceWorkerStatus(), 'running');
    // It really is a new worker: the global set before the stop is gone.
    assert.equal(await h.browser.serviceWorker.evaluate(() => globalThis.__keyfobSmokeProbe ?? null), null);

    assert.equal(await wallet.state(), 'unlocked');
    const reply = await wallet.send('credentials.list');
    assert.equal(reply.ok, true);
    assertNoSecret(reply, 'credentials.list after restart');
    assert.deepEqual(
      reply.value.map((c) => c.id).sort(),
      before.map((c) => c.id).sort(),
    );
  });
});

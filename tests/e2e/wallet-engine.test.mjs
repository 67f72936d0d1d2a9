// The wallet engine (keyfob-core's `Wallet`) through the real extension: policy holes that
// must stay closed.
// - A model allow-list is enforced on the real body, however far in the `model` field is.
// - Spending is stored, survives a worker restart and equals the audit log's sum exactly.
// - Damaged non-secret records (budgets, unlock throttle, grants) never stop the wallet from
//   opening, are kept aside under their `…Unreadable` key, are reported in `problems`, and
//   never mean "free", "allowed" or "extra guesses".
// - Concurrent wrong unlocks get no more guesses than sequential ones.
// No fixed sleeps: every read after an action polls (`waitFor`).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { waitFor } from './lib/wait.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const PASSWORD = 'wallet engine master password';
const OPENAI_KEY = `sk-proj-engine${Math.random().toString(36).slice(2)}${Date.now()}`;
const RUN = Math.random().toString(36).slice(2);
const FREE_ATTEMPTS = 5; // crates/keyfob-core/src/vault/throttle.rs

describe('wallet engine: allow-list on big bodies, stored spend, damaged records, concurrent unlocks', () => {
  let h;
  let wallet;
  let page;
  let origin;

  const sw = (fn, arg) => h.browser.serviceWorker.evaluate(fn, arg);
  const local = (key) => sw(async (k) => (await chrome.storage.local.get(k))[k], key);
  const setLocal = (key, value) => sw(async ([k, v]) => chrome.storage.local.set({ [k]: v }), [key, value]);
  const upstream = () => h.mock.requests.filter((r) => r.host === 'api.openai.com');
  const setPolicy = (policy) => wallet.call('grants.setPolicy', { origin, policy });
  /** Waits until every change is confirmed stored (`vault.status` → `unsaved: false`). */
  const settled = () => wallet.waitForSaved();
  /** Stops the worker (after its writes landed) and wakes a fresh one; returns the fresh status. */
  const restart = async () => {
    await settled();
    await h.browser.stopServiceWorker();
    const reply = await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    assert.equal(reply?.ok, true, `vault.status after the restart: ${JSON.stringify(reply)}`);
    return reply.value;
  };
  /** Moves the worker's clock forward (until the worker restarts). */
  const advanceWorkerClock = (ms) => sw((by) => {
    if (!globalThis.__e2eRealNow) globalThis.__e2eRealNow = Date.now;
    globalThis.__e2eOffset = (globalThis.__e2eOffset ?? 0) + by;
    Date.now = () => globalThis.__e2eRealNow() + globalThis.__e2eOffset;
  }, ms);
  const setAside = (status) => status.problems.filter((p) => p.code === 'STATE_SET_ASIDE').map((p) => p.record).sort();
  const auditOf = async () => (await wallet.call('audit.list', { filter: { origin }, limit: 5000 })).records;
  const sumCost = (records) => records.reduce((sum, r) => sum + (r.costNanoUsd ?? 0), 0);
  const siteUsage = async () => {
    const sites = await wallet.call('usage.get', { origin });
    assert.equal(sites.length, 1, JSON.stringify(sites));
    return sites[0];
  };
  /** A chat through createFetch with a body built in the page; returns {status, code, bytes}. */
  const bigChat = (model, { messages = 6144, each = 1024 } = {}) => page.evaluate(async ({ model, messages, each, run }) => {
    // The content looks like a model field too: only the real top-level one may count.
    const decoy = ` "model": "gpt-4o-mini", {\\"model\\":\\"gpt-4o-mini\\"} `;
    const filler = (i) => `${run} ${i} ${decoy}`.padEnd(each, 'x');
    const body = JSON.stringify({
      messages: Array.from({ length: messages }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: filler(i) })),
      max_tokens: 16,
      model,
    });
    const res = await window.__session.createFetch('openai')('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    let code = null;
    try {
      code = JSON.parse(text)?.error?.code ?? null;
    } catch {}
    return { status: res.status, code, text: text.slice(0, 300), bytes: new TextEncoder().encode(body).length, modelAt: body.lastIndexOf('"model"') };
  }, { model, messages, each, run: RUN });
  const smallChat = (model) => page.evaluate(async (m) => {
    const res = await window.__session.createFetch('openai')('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: m, max_tokens: 20, messages: [{ role: 'user', content: 'spend a little' }] }),
    });
    return { status: res.status, body: await res.text() };
  }, model);

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'engine', secret: OPENAI_KEY });
    page = await h.newPage('/sdk.html');
    await page.evaluate(() => window.SDK_READY);
    origin = new URL(page.url()).origin;
    const connected = page.evaluate(async () => {
      window.__session = await window.keyfob.connect({ providers: ['openai'] });
      return true;
    });
    await approveNext(h.browser.context, { providers: ['openai'] });
    await connected;
  });
  after(async () => {
    await h?.teardown();
  });

  test('a 6 MiB body (past the old 4 MiB read cap) cannot hide a disallowed model; the allowed one goes through and is priced', async () => {
    await setPolicy({ models: { exact: ['gpt-4o-mini'] } });
    const before = upstream().length;
    const refused = await bigChat('gpt-4o');
    assert.ok(refused.bytes > 5 * 1024 * 1024, `the body is ${refused.bytes} bytes`);
    assert.ok(refused.modelAt > 5 * 1024 * 1024, `the real model field is at byte ${refused.modelAt}`);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.code, 'MODEL_NOT_ALLOWED', refused.text);
    assert.equal(upstream().length, before, 'a refused request reached the provider');

    const allowed = await bigChat('gpt-4o-mini');
    assert.equal(allowed.status, 200, allowed.text);
    const sent = await h.mock.waitFor((r) => r.host === 'api.openai.com' && r.route === 'openai.chat' && r.bodyLength > 5 * 1024 * 1024, { timeout: 10_000 });
    assert.equal(sent.bodyLength, allowed.bytes, 'the provider got a different body than the page sent');
    assert.equal(upstream().length, before + 1, 'exactly one upstream request (the allowed one)');

    const records = await waitFor(async () => {
      const all = await auditOf();
      const ok = all.find((r) => r.model === 'gpt-4o-mini' && r.status === 200);
      const no = all.find((r) => r.errorCode === 'MODEL_NOT_ALLOWED');
      return ok && no && { ok, no };
    }, { message: 'audit records of the allowed and the refused big request' });
    assert.equal(records.no.model, 'gpt-4o', 'the refusal is audited with the model the body named');
    assert.equal(records.no.costNanoUsd ?? 0, 0);
    assert.ok(records.ok.costNanoUsd > 0, `the allowed request is priced: ${JSON.stringify(records.ok)}`);
    assert.ok(records.ok.usage?.inputTokens > 0, `usage recorded: ${JSON.stringify(records.ok.usage)}`);
    await setPolicy({});
  });

  test('spend is stored, survives a worker restart and equals the audit log to the nano-dollar', async () => {
    // A total budget so usage.get shows the budget book's spend next to the log's summary.
    await setPolicy({ budgets: [{ period: 'total', maxCostNanoUsd: 1e15 }] });
    const metered = await smallChat('gpt-4o-mini');
    assert.equal(metered.status, 200, metered.body);
    const expected = await waitFor(async () => {
      const records = await auditOf();
      return records.some((r) => r.status === 200 && r.path === '/v1/chat/completions' && r.costNanoUsd > 0 && r.usage?.inputTokens === JSON.parse(metered.body).usage.prompt_tokens)
        && sumCost(records);
    }, { message: 'the metered request in the audit log' });
    assert.ok(expected > 0);

    const stored = await waitFor(async () => {
      const raw = await local('budgets');
      if (typeof raw !== 'string') return false;
      const total = JSON.parse(raw).spent?.[origin]?.total;
      return total?.costNanoUsd === expected && total;
    }, { message: `chrome.storage.local.budgets to hold ${expected} nano-USD for ${origin}` });
    assert.equal(stored.costNanoUsd, expected);

    const beforeRestart = await siteUsage();
    assert.equal(beforeRestart.summary.costNanoUsd, expected);
    assert.equal(beforeRestart.budgets[0].spent.costNanoUsd, expected);

    await wallet.lock();
    const status = await restart();
    assert.equal(status.state, 'locked');
    assert.deepEqual(setAside(status), [], 'nothing was damaged');
    await wallet.unlock(PASSWORD);
    const records = await auditOf();
    const usage = await siteUsage();
    assert.equal(sumCost(records), expected, 'audit records were lost across the restart');
    assert.equal(usage.summary.costNanoUsd, expected);
    assert.equal(usage.budgets[0].spent.costNanoUsd, expected, 'the stored budget spend differs from the audit log');
    assert.equal(usage.summary.requests, records.length);
    await setPolicy({});
  });

  test('damaged budgets: set aside, reported, and rebuilt from the audit log (spend is not forgotten)', async () => {
    await setPolicy({ budgets: [{ period: 'total', maxCostNanoUsd: 1e15 }] });
    const expected = sumCost(await auditOf());
    assert.ok(expected > 0, 'earlier tests spent something');
    await wallet.lock();
    await settled();
    const garbage = JSON.stringify({ spent: 'nothing at all' }); // JSON, but the wrong shape
    await setLocal('budgets', garbage);

    const status = await restart();
    assert.equal(status.state, 'locked');
    assert.deepEqual(setAside(status), ['budgetsUnreadable'], JSON.stringify(status.problems));
    const kept = await waitFor(async () => (await local('budgetsUnreadable')) === garbage, { message: 'budgetsUnreadable to hold the damaged record' });
    assert.ok(kept);

    await wallet.unlock(PASSWORD);
    const usage = await siteUsage();
    assert.equal(usage.budgets[0].spent.costNanoUsd, expected, 'damaged budgets were reset to zero instead of rebuilt');
    const rebuilt = await waitFor(async () => {
      const raw = await local('budgets');
      try {
        return JSON.parse(raw).spent?.[origin]?.total?.costNanoUsd === expected;
      } catch {
        return false;
      }
    }, { message: 'the rebuilt budgets to be stored' });
    assert.ok(rebuilt);
    assert.equal(await local('budgetsUnreadable'), garbage, 'the set-aside record was lost');
    assert.ok(await wallet.call('problems.dismiss', { record: 'budgetsUnreadable' }), 'the problem could be dismissed');
    assert.deepEqual(setAside(await wallet.status()), []);
    await setPolicy({});
  });

  test('a damaged unlock throttle: set aside, reported, and a back-off applies (never extra guesses)', async () => {
    await wallet.lock();
    await settled();
    await setLocal('unlockThrottle', '{not json');

    const status = await restart();
    assert.equal(status.state, 'locked');
    assert.deepEqual(setAside(status), ['unlockThrottleUnreadable'], JSON.stringify(status.problems));
    assert.equal(status.failedAttempts, FREE_ATTEMPTS, 'a damaged counter must count as used up');
    assert.ok(status.retryAfterMs > 0, 'a back-off applies after damage');
    assert.equal(await waitFor(async () => (await local('unlockThrottleUnreadable')) === '{not json' && 'kept', { message: 'unlockThrottleUnreadable' }), 'kept');

    const blocked = await wallet.expectError('vault.unlock', { password: PASSWORD });
    assert.equal(blocked.code, 'UNLOCK_BACKOFF');
    // Let the short wait pass on the worker's clock rather than waiting for it.
    await advanceWorkerClock(status.retryAfterMs + 1_000);
    await wallet.unlock(PASSWORD);
    const unlocked = await wallet.status();
    assert.equal(unlocked.state, 'unlocked');
    assert.equal(unlocked.failedAttempts, 0);
    const rewritten = await waitFor(async () => {
      const raw = await local('unlockThrottle');
      try {
        return JSON.parse(raw).failures === 0 && raw;
      } catch {
        return false;
      }
    }, { message: 'a valid, reset unlockThrottle to replace the damaged one' });
    assert.ok(rewritten);
    assert.equal(await local('unlockThrottleUnreadable'), '{not json', 'the set-aside record was lost');
    assert.ok((await wallet.listGrants()).some((g) => g.origin === origin), 'the grants were not damaged');
    await restart(); // drops the shifted clock; the session key keeps the wallet unlocked
    assert.equal(await wallet.state(), 'unlocked');
  });

  for (const [name, garbage, asStored] of [
    ['text that is not JSON', '{not json', '{not json'],
    ['an object of the wrong shape', { grants: 7, note: 'wrong shape' }, JSON.stringify({ grants: 7, note: 'wrong shape' })],
  ]) {
    test(`damaged grants (${name}): set aside, reported, no site connected, the wallet still opens`, async () => {
      await wallet.lock();
      await settled();
      await setLocal('grants', garbage);

      const status = await restart();
      assert.equal(status.state, 'locked');
      assert.deepEqual(setAside(status), ['grantsUnreadable'], JSON.stringify(status.problems));
      const problem = status.problems.find((p) => p.record === 'grantsUnreadable');
      assert.ok(problem.message.length > 0 && problem.sinceMs > 0, JSON.stringify(problem));
      assert.equal(await waitFor(async () => (await local('grantsUnreadable')) === asStored && 'kept', { message: `grantsUnreadable to hold ${asStored}` }), 'kept');

      await wallet.unlock(PASSWORD);
      assert.equal(await wallet.state(), 'unlocked');
      assert.deepEqual(await wallet.listGrants(), [], 'a damaged grant list must connect no site');
      assert.equal((await wallet.listCredentials()).length, 1, 'the vault is intact');
      assert.deepEqual(await wallet.call('usage.get', {}), []);
      assert.ok((await auditOf()).length > 0, 'the audit log is intact');
      // The page's session is no longer granted: nothing reaches the provider.
      const before = upstream().length;
      const refused = await smallChat('gpt-4o-mini');
      assert.ok(refused.status >= 400, `a site without a grant was served: ${refused.status} ${refused.body}`);
      assert.equal(upstream().length, before, 'a request without a grant reached the provider');
      assert.equal(await local('grantsUnreadable'), asStored, 'the set-aside record was lost');

      // The popup says so, and the notice can be dismissed once read (the record stays aside).
      const notice = wallet.page.locator('#problems .problem-item[data-record="grantsUnreadable"]');
      await notice.getByText('Damaged data set aside').waitFor();
      await notice.getByRole('button', { name: 'Dismiss' }).click();
      await notice.waitFor({ state: 'detached' });
      assert.deepEqual(setAside(await wallet.status()), []);
      assert.equal(await local('grantsUnreadable'), asStored, 'dismissing lost the set-aside record');
    });
  }

  test('ten concurrent wrong unlocks get exactly the free attempts; the rest and the right password are refused', async () => {
    await wallet.lock();
    assert.equal((await wallet.status()).failedAttempts, 0);
    const burst = (n, tag) => wallet.page.evaluate(({ n, tag }) => Promise.all(Array.from({ length: n }, (_, i) =>
      chrome.runtime.sendMessage({ cmd: 'vault.unlock', password: `wrong ${tag} ${i}` })
        .catch((e) => ({ ok: false, error: { code: 'SEND_FAILED', message: String(e) } })))), { n, tag });
    const codes = (replies) => replies.map((r) => (r.ok ? 'OK' : r.error.code));
    const count = (list, code) => list.filter((c) => c === code).length;

    const first = codes(await burst(10, 'a'));
    assert.equal(count(first, 'WRONG_PASSWORD'), FREE_ATTEMPTS, `codes: ${first.join(', ')}`);
    assert.equal(count(first, 'UNLOCK_BACKOFF'), 10 - FREE_ATTEMPTS, `codes: ${first.join(', ')}`);
    const status = await wallet.status();
    assert.equal(status.failedAttempts, FREE_ATTEMPTS, 'refused attempts must not count, run ones must');
    assert.ok(status.retryAfterMs > 0);
    const right = await wallet.expectError('vault.unlock', { password: PASSWORD });
    assert.equal(right.code, 'UNLOCK_BACKOFF', 'the right password got through during the back-off');
    assert.ok(right.retryAfterMs > 0, JSON.stringify(right));
    assert.equal(await wallet.state(), 'locked');

    // Once the back-off has passed, another burst gets one guess, not five.
    await advanceWorkerClock(status.retryAfterMs + 1_000);
    const second = codes(await burst(10, 'b'));
    assert.equal(count(second, 'WRONG_PASSWORD'), 1, `codes: ${second.join(', ')}`);
    assert.equal(count(second, 'UNLOCK_BACKOFF'), 9, `codes: ${second.join(', ')}`);
    const longer = await wallet.status();
    assert.equal(longer.failedAttempts, FREE_ATTEMPTS + 1);
    assert.ok(longer.retryAfterMs > status.retryAfterMs, `the back-off grows: ${longer.retryAfterMs} vs ${status.retryAfterMs}`);
    assert.equal((await wallet.expectError('vault.unlock', { password: PASSWORD })).code, 'UNLOCK_BACKOFF');

    await advanceWorkerClock(longer.retryAfterMs + 1_000);
    await wallet.unlock(PASSWORD);
    assert.equal((await wallet.status()).failedAttempts, 0);
    await restart(); // drops the shifted clock
  });

  test('a successful unlock clears the stored attempt counter, so a restart does not count it', async () => {
    // Earlier tests restarted and unlocked several times: none of that may have added up.
    assert.equal((await restart()).failedAttempts, 0, 'earlier successful unlocks were counted as failures');
    await wallet.lock();
    await wallet.unlock(PASSWORD);
    assert.equal((await wallet.status()).failedAttempts, 0);
    await settled();
    const stored = await waitFor(async () => {
      try {
        return JSON.parse(await local('unlockThrottle')).failures === 0 && 'clean';
      } catch {
        return false;
      }
    }, { timeoutMs: 5_000, message: `unlockThrottle.failures to be 0 after a successful unlock (stored: ${await local('unlockThrottle')})` });
    assert.equal(stored, 'clean');
    await wallet.lock();
    const status = await restart();
    assert.equal(status.failedAttempts, 0, 'the right password counted as a failed attempt after a restart');
    assert.equal(status.freeAttemptsLeft, FREE_ATTEMPTS);
  });
});

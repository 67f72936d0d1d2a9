// Metering and policy through the real extension and the official SDKs: usage recorded
// exactly as the mock reported it (and surviving a worker restart), budgets enforced before
// anything goes upstream, model allow-lists, expiry, gated surfaces, and the app's
// x-keyfob-reason / x-keyfob-context headers validated, recorded and never forwarded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { clickThatCloses, approveNext, openWallet } from './lib/wallet.mjs';

const PASSWORD = 'metering master password';
const OPENAI_KEY = `sk-proj-meter${Math.random().toString(36).slice(2)}`;
const ANTHROPIC_KEY = `sk-ant-api03-meter${Math.random().toString(36).slice(2)}`;

describe('metering: usage, budgets, allow-lists, expiry, surfaces, audit', () => {
  let h;
  let wallet;
  let page;
  let origin;
  const setPolicy = (policy) => wallet.call('grants.setPolicy', { origin, policy });
  const upstreamCount = () => h.mock.requests.filter((r) => r.host === 'api.openai.com' || r.host === 'api.anthropic.com').length;
  /** A chat call through createFetch; returns {status, body, code}. */
  const chat = (args) => page.evaluate(async ({ model, headers = {}, path = '/v1/chat/completions', body, maxTokens = 50 }) => {
    const f = window.__session.createFetch('openai');
    const res = await f(`https://api.openai.com${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body ?? JSON.stringify({ model, max_tokens: maxTokens, messages: [{ role: 'user', content: 'count me' }] }),
    });
    const text = await res.text();
    return { status: res.status, body: text, code: res.headers.get('x-keyfob-error') };
  }, args);

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'meter', secret: OPENAI_KEY });
    await wallet.addCredential({ provider: 'anthropic', label: 'meter', secret: ANTHROPIC_KEY });
    page = await h.newPage('/sdk.html');
    await page.evaluate(() => window.SDK_READY);
    origin = new URL(page.url()).origin;
    const connected = page.evaluate(async () => {
      window.__session = await window.keyfob.connect({ providers: ['openai', 'anthropic'] });
      return true;
    });
    await approveNext(h.browser.context, { providers: ['openai', 'anthropic'] });
    await connected;
  });
  after(async () => {
    await h?.teardown();
  });

  test('streamed usage is recorded exactly as the providers reported it', async (t) => {
    const reported = await page.evaluate(async () => {
      const { OpenAI, Anthropic } = window.SDK;
      const s = window.__session;
      const openai = new OpenAI({ apiKey: s.sessionKey, fetch: s.createFetch('openai'), dangerouslyAllowBrowser: true });
      // The app does not ask for usage; Keyfob adds stream_options.include_usage itself.
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'usage please' }] });
      let usage = null;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      const anthropic = new Anthropic({ apiKey: s.sessionKey, fetch: s.createFetch('anthropic'), dangerouslyAllowBrowser: true });
      const message = await anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'and here' }] }).finalMessage();
      return { openai: usage, anthropic: message.usage };
    });
    assert.ok(reported.openai, 'the openai stream carried a usage chunk (include_usage was added)');
    const sent = h.mock.requests.find((r) => r.route === 'openai.chat.stream');
    assert.equal(JSON.parse(sent.bodyText).stream_options?.include_usage, true);

    // Let the debounced write land, then read what the page may read.
    const usage = await page.evaluate(() => window.__session.getUsage());
    assert.equal(usage.requests, 2);
    assert.equal(usage.byProvider.openai.inputTokens, reported.openai.prompt_tokens);
    assert.equal(usage.byProvider.openai.outputTokens, reported.openai.completion_tokens);
    assert.equal(usage.byProvider.anthropic.inputTokens, reported.anthropic.input_tokens);
    assert.equal(usage.byProvider.anthropic.outputTokens, reported.anthropic.output_tokens);
    assert.equal(usage.inputTokens, reported.openai.prompt_tokens + reported.anthropic.input_tokens);
    assert.ok(usage.costUsd > 0, `cost is estimated for known models: ${JSON.stringify(usage)}`);
    t.diagnostic(`openai stream reported ${JSON.stringify(reported.openai)}; anthropic reported ${JSON.stringify(reported.anthropic)}; Keyfob recorded ${JSON.stringify(usage)}`);
  });

  test('usage counters survive a service-worker restart', async () => {
    const before = await page.evaluate(() => window.__session.getUsage());
    await wallet.waitForSaved(); // the metering write is coalesced (500 ms)
    await h.browser.stopServiceWorker();
    await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    const after = await page.evaluate(() => window.__session.getUsage());
    assert.deepEqual(after, before);
  });

  test('a key\'s "last used" is stored, so it survives a worker restart', async () => {
    const used = (await wallet.listCredentials()).find((c) => c.provider === 'openai');
    assert.ok(used.lastUsedMs, 'the proxied requests marked the key as used');
    await wallet.waitForSaved(); // the vault write is coalesced (500 ms)
    await h.browser.stopServiceWorker();
    await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    const after = (await wallet.listCredentials()).find((c) => c.provider === 'openai');
    assert.equal(after.lastUsedMs, used.lastUsedMs);
  });

  test('getUsage is per origin: another site sees none of it', async () => {
    const other = await h.newPage('/', h.pages.b);
    const connected = other.evaluate(() => window.keyfob.connect({ providers: ['openai'] }).then((s) => s.getUsage()));
    await approveNext(h.browser.context, { providers: ['openai'] });
    const usage = await connected;
    assert.equal(usage.requests, 0);
    await other.close();
  });

  test('a token budget blocks at the limit with nothing sent upstream', async () => {
    const used = await page.evaluate(() => window.__session.getUsage());
    const spent = used.inputTokens + used.outputTokens;
    // A few tokens left: the next request is admitted (it may overshoot by at most its own
    // reservation), and once it has settled the budget is used up.
    await setPolicy({ budgets: [{ period: 'day', maxTokens: spent + 3 }] });
    const last = await chat({ model: 'gpt-4o-mini', maxTokens: 20 });
    assert.equal(last.status, 200, last.body);
    const count = upstreamCount();
    const blocked = await chat({ model: 'gpt-4o-mini', maxTokens: 20 });
    assert.equal(blocked.status, 402, blocked.body);
    assert.equal(JSON.parse(blocked.body).error.code, 'BUDGET_EXCEEDED');
    assert.equal(upstreamCount(), count, 'a refused request reached the provider');
    const sites = await wallet.call('usage.get', { origin });
    assert.ok(JSON.stringify(sites[0].budgets).includes('day'), JSON.stringify(sites[0].budgets));
    await setPolicy({});
    assert.equal((await chat({ model: 'gpt-4o-mini', maxTokens: 20 })).status, 200);
  });

  test('a model allow-list refuses other models before any upstream contact', async () => {
    await setPolicy({ models: { exact: ['gpt-4o-mini'], prefixes: ['gpt-5'] } });
    assert.equal((await chat({ model: 'gpt-4o-mini' })).status, 200);
    assert.equal((await chat({ model: 'gpt-5-nano' })).status, 200);
    const count = upstreamCount();
    const refused = await chat({ model: 'gpt-4o' });
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body).error.code, 'MODEL_NOT_ALLOWED');
    assert.equal(upstreamCount(), count);
    await setPolicy({});
  });

  test('file and batch surfaces are off until ticked for the grant', async () => {
    const upload = () => page.evaluate(async () => {
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new File(['{"a":1}\n'], 'x.jsonl'));
      const res = await window.__session.createFetch('openai')('https://api.openai.com/v1/files', { method: 'POST', body: form });
      return { status: res.status, body: await res.text() };
    });
    const count = upstreamCount();
    const refused = await upload();
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body).error.code, 'AGENT_SCOPE_MISSING');
    assert.equal(upstreamCount(), count);
    await setPolicy({ surfaces: ['files'] });
    assert.equal((await upload()).status, 200);
    await setPolicy({});
  });

  test('background responses need their own surface; their usage is metered when their result is read', async () => {
    const start = () => page.evaluate(async () => {
      const res = await window.__session.createFetch('openai')('https://api.openai.com/v1/responses', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', input: 'work on this later', background: true, max_output_tokens: 64 }),
      });
      return { status: res.status, body: await res.text() };
    });
    // Not ticked (even with files and batches ticked): refused, nothing sent.
    await setPolicy({ surfaces: ['files', 'batches'] });
    let count = upstreamCount();
    const refused = await start();
    assert.equal(refused.status, 403, refused.body);
    const error = JSON.parse(refused.body).error;
    assert.equal(error.code, 'AGENT_SCOPE_MISSING');
    assert.match(error.message, /background responses/);
    assert.equal(upstreamCount(), count, 'a background response reached the provider');

    // The same call in the foreground needs nothing; reading it back later costs nothing.
    const foreground = await page.evaluate(async () => {
      const { OpenAI } = window.SDK;
      const s = window.__session;
      const openai = new OpenAI({ apiKey: s.sessionKey, fetch: s.createFetch('openai'), dangerouslyAllowBrowser: true });
      const created = await openai.responses.create({ model: 'gpt-4o-mini', input: 'right now' });
      const again = await openai.responses.retrieve(created.id);
      return { id: created.id, usage: again.usage };
    });
    assert.ok(foreground.usage, 'the stored foreground response carries its usage');

    // Ticked: the official SDK starts one and polls it until it completes.
    await setPolicy({ surfaces: ['background'] });
    count = upstreamCount();
    const outcome = await page.evaluate(async () => {
      const { OpenAI } = window.SDK;
      const s = window.__session;
      const openai = new OpenAI({ apiKey: s.sessionKey, fetch: s.createFetch('openai'), dangerouslyAllowBrowser: true });
      const created = await openai.responses.create({ model: 'gpt-4o-mini', input: 'keep going without me', background: true, max_output_tokens: 64 });
      const statuses = [created.status];
      let r = created;
      while (r.status === 'queued' || r.status === 'in_progress') {
        r = await openai.responses.retrieve(created.id);
        statuses.push(r.status);
      }
      return { id: created.id, statuses, usage: r.usage, model: r.model, background: r.background };
    });
    assert.deepEqual(outcome.statuses, ['queued', 'in_progress', 'completed']);
    assert.equal(outcome.background, true);
    assert.deepEqual(
      h.mock.requests.slice(count).filter((r) => r.host === 'api.openai.com').map((r) => r.route),
      ['openai.responses.background', 'openai.responses.retrieve.pending', 'openai.responses.retrieve'],
    );
    const sent = h.mock.requests.find((r) => r.route === 'openai.responses.background');
    assert.equal(JSON.parse(sent.bodyText).background, true);

    const records = (await wallet.call('audit.list', { filter: { origin } })).records;
    const of = (path) => records.filter((r) => r.path === path);
    // The creation answered `queued` without usage: charged at least its reservation, never $0.
    const creations = of('/v1/responses').filter((r) => r.status === 200 && r.usage.inputTokens === 0);
    assert.equal(creations.length, 1, JSON.stringify(records.slice(0, 6)));
    assert.equal(creations[0].usageComplete, false);
    assert.ok(creations[0].costNanoUsd > 0, `the creation was counted: ${JSON.stringify(creations[0])}`);
    // The pending poll reported nothing and cost nothing; the completed one is metered with the
    // usage and model of the answer, on top of what the creation was already charged.
    const reads = of(`/v1/responses/${outcome.id}`);
    assert.equal(reads.length, 2, JSON.stringify(reads));
    const [done, pending] = reads; // newest first
    assert.equal(pending.costNanoUsd, 0);
    assert.equal(pending.usage.inputTokens + pending.usage.outputTokens, 0);
    assert.equal(done.usageComplete, true, JSON.stringify(done));
    assert.equal(done.model, outcome.model);
    assert.equal(done.usage.inputTokens, outcome.usage.input_tokens);
    assert.equal(done.usage.outputTokens, outcome.usage.output_tokens);
    const reported = await wallet.call('usage.get', { origin });
    assert.ok(reported[0].summary.inputTokens >= outcome.usage.input_tokens, JSON.stringify(reported[0].summary));
    // Reading the foreground response again was not charged a second time.
    const [foregroundRead] = of(`/v1/responses/${foreground.id}`);
    assert.equal(foregroundRead.costNanoUsd, 0, JSON.stringify(foregroundRead));
    assert.equal(foregroundRead.usage.inputTokens, 0);
    await setPolicy({});
  });

  test('x-keyfob-reason and x-keyfob-context: invalid is refused, valid is audited and never forwarded', async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    const bad = await chat({ model: 'gpt-4o-mini', headers: { 'x-keyfob-context': JSON.stringify(tooMany) } });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).error.code, 'INVALID_CONTEXT');
    const good = await chat({ model: 'gpt-4o-mini', headers: { 'x-keyfob-reason': 'summarise ticket', 'x-keyfob-context': JSON.stringify({ ticket: 'T-42' }) } });
    assert.equal(good.status, 200);
    const last = h.mock.requests.filter((r) => r.route === 'openai.chat').at(-1);
    assert.ok(!Object.keys(last.headers).some((k) => k.startsWith('x-keyfob')), 'x-keyfob-* reached the provider');
    const audit = await wallet.call('audit.list', { filter: { origin } });
    const entry = audit.records.find((r) => r.reason === 'summarise ticket');
    assert.ok(entry, 'the audited request carries its reason');
    assert.deepEqual(entry.context, { ticket: 'T-42' });
    assert.equal(entry.path, '/v1/chat/completions');
    assert.equal(entry.status, 200);
    // The stored audit log is sealed under the vault key: the reason is not readable there.
    await wallet.waitForSaved(); // the metering write is coalesced (500 ms)
    const stored = await h.browser.serviceWorker.evaluate(async () => {
      const { auditLedger } = await chrome.storage.local.get('auditLedger');
      return { raw: String(auditLedger), decoded: new TextDecoder('latin1').decode(Uint8Array.fromBase64(auditLedger)) };
    });
    assert.ok(stored.decoded.startsWith('KFOB'), 'the audit log is stored in the sealed format');
    for (const text of [stored.raw, stored.decoded]) {
      assert.ok(!text.includes('summarise ticket') && !text.includes('T-42'), 'the audit log is stored in plaintext');
    }
  });

  test('"ask me above $X": approve, reject and no answer in two minutes', async () => {
    await setPolicy({ askAboveNanoUsd: 1 }); // anything priced above a nano-dollar asks
    const answer = async (buttonName) => {
      const window = await h.browser.context.waitForEvent('page', { predicate: (p) => p.url().includes('/approve/request.html') });
      await window.getByText('gpt-4o-mini').waitFor();
      await window.getByText(origin).waitFor();
      await clickThatCloses(window.getByRole('button', { name: buttonName }));
    };
    const [approved] = await Promise.all([chat({ model: 'gpt-4o-mini' }), answer('Approve')]);
    assert.equal(approved.status, 200, approved.body);

    const count = upstreamCount();
    const [rejected] = await Promise.all([chat({ model: 'gpt-4o-mini' }), answer('Reject')]);
    assert.equal(rejected.status, 403);
    assert.equal(JSON.parse(rejected.body).error.code, 'USER_REJECTED');
    assert.equal(upstreamCount(), count);

    // Two minutes of silence, on a worker timer shortened for the test only.
    await h.browser.serviceWorker.evaluate(() => {
      const real = globalThis.setTimeout;
      globalThis.setTimeout = (fn, ms, ...rest) => real(fn, ms >= 120_000 ? 50 : ms, ...rest);
    });
    const timedOut = await chat({ model: 'gpt-4o-mini' });
    assert.equal(timedOut.status, 403);
    assert.equal(JSON.parse(timedOut.body).error.code, 'USER_REJECTED');
    assert.equal(upstreamCount(), count);
    await setPolicy({});
  });

  test('an expired grant answers GRANT_EXPIRED (clock moved forward in the worker)', async () => {
    const grant = (await wallet.call('grants.list')).find((g) => g.origin === origin);
    assert.ok(grant.expiresAtMs, 'the approval set an expiry');
    await h.browser.serviceWorker.evaluate((ms) => {
      const real = Date.now;
      Date.now = () => real() + ms;
    }, grant.expiresAtMs - Date.now() + 60_000);
    const count = upstreamCount();
    const expired = await chat({ model: 'gpt-4o-mini' });
    assert.equal(expired.status, 401);
    assert.equal(JSON.parse(expired.body).error.code, 'GRANT_EXPIRED');
    assert.equal(upstreamCount(), count);
    assert.equal(await page.evaluate(() => window.keyfob.tryReconnect()), null);
  });
});

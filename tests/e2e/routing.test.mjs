// Cross-provider routing through the real extension: an app written for Anthropic, with
// the official @anthropic-ai/sdk unchanged in the page, is served by OpenAI Chat once the
// user set that route for the site (`grants.setRoutes`; the popup's route editor is still
// to come), and the official openai SDK is served by Anthropic the other way. Proves:
//   - the SDK gets its own answer shape back, whole and streamed, with the model it asked for;
//   - only OpenAI was called, with the OpenAI key, the mapped model and none of Anthropic's
//     headers; the Anthropic key went nowhere;
//   - the audit log names the served provider and model;
//   - a feature OpenAI cannot express is refused as ROUTE_UNSUPPORTED, with nothing sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { PROVIDER_HOSTS, replyText } from './lib/mock-providers.mjs';
import { waitFor } from './lib/wait.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const PASSWORD = 'e2e routing wallet: quartz ferry 9 lantern';
const RUN = Math.random().toString(36).slice(2, 10);
const KEY = {
  openai: `sk-proj-route${RUN}${'o'.repeat(40)}`,
  anthropic: `sk-ant-api03-route${RUN}${'a'.repeat(60)}AA`,
};
const prompt = (tag) => `${tag}-${RUN} routed ✓`;

describe('routing: the Anthropic SDK served by OpenAI Chat', () => {
  let h;
  let page;
  let wallet;
  let origin;

  const openaiCalls = (tag) => h.mock.calls(PROVIDER_HOSTS.openai).filter((r) => r.bodyText?.includes(`${tag}-${RUN}`));
  const anthropicCalls = () => h.mock.calls(PROVIDER_HOSTS.anthropic);

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'E2E openai', secret: KEY.openai });
    await wallet.addCredential({ provider: 'anthropic', label: 'E2E anthropic', secret: KEY.anthropic });

    page = await h.browser.context.newPage();
    await page.goto(h.pages.a.url('/sdk.html'), { waitUntil: 'load' });
    await page.waitForFunction(() => document.documentElement.dataset.sdk && window.keyfob);
    await page.evaluate(() => window.SDK_READY);
    origin = h.pages.a.origin;
    const connected = page.evaluate(async () => {
      window.session = await window.keyfob.connect({
        providers: [{ id: 'anthropic', required: true }, { id: 'openai', required: true }],
      });
    });
    await approveNext(h.browser.context, { providers: ['anthropic', 'openai'], password: PASSWORD });
    await connected;
    await wallet.call('grants.setRoutes', {
      origin,
      routes: [
        { from: 'anthropic', to: 'openai', models: [{ pattern: 'claude-*', model: 'gpt-4o-mini' }] },
        { from: 'openai', to: 'anthropic', models: [{ pattern: 'gpt-*', model: 'claude-haiku-4-5' }] },
      ],
    });
    const grant = (await wallet.call('grants.list')).find((g) => g.origin === origin);
    assert.deepEqual(grant.routes.map((r) => [r.from, r.to]), [['anthropic', 'openai'], ['openai', 'anthropic']]);
  });

  after(async () => {
    await h?.teardown();
  });

  test('messages.create and messages.stream get Anthropic answers from OpenAI', async () => {
    const p = { create: prompt('rt-create'), stream: prompt('rt-stream') };
    const out = await page.evaluate(async (p) => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: p.create }] });
      const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: p.stream }] });
      let deltas = '';
      stream.on('text', (t) => {
        deltas += t;
      });
      const final = await stream.finalMessage();
      return {
        create: msg.content.map((b) => b.text ?? '').join(''),
        model: msg.model,
        stop: msg.stop_reason,
        usage: msg.usage,
        deltas,
        final: final.content.map((b) => b.text ?? '').join(''),
        finalStop: final.stop_reason,
        finalOutputTokens: final.usage?.output_tokens,
      };
    }, p);
    assert.equal(out.create, replyText(p.create));
    assert.equal(out.model, 'claude-sonnet-4-5', 'the app sees the model it asked for');
    assert.equal(out.stop, 'end_turn');
    assert.ok(out.usage.input_tokens > 0 && out.usage.output_tokens > 0, JSON.stringify(out.usage));
    assert.equal(out.deltas, replyText(p.stream));
    assert.equal(out.final, replyText(p.stream));
    assert.equal(out.finalStop, 'end_turn');
    assert.ok(out.finalOutputTokens > 0, 'the streamed answer carried usage');

    for (const tag of ['rt-create', 'rt-stream']) {
      const calls = openaiCalls(tag);
      assert.equal(calls.length, 1, `one OpenAI call for ${tag}`);
      const [rec] = calls;
      assert.equal(rec.path, '/v1/chat/completions');
      assert.equal(rec.headers.authorization, `Bearer ${KEY.openai}`);
      for (const name of ['x-api-key', 'anthropic-version', 'anthropic-dangerous-direct-browser-access']) {
        assert.equal(rec.headers[name], undefined, `OpenAI got ${name}`);
      }
      const body = JSON.parse(rec.bodyText);
      assert.equal(body.model, 'gpt-4o-mini', 'the route mapped the model');
      assert.ok(!JSON.stringify({ h: rec.headers, b: rec.bodyText }).includes(KEY.anthropic.slice(14, 30)), 'the Anthropic key reached OpenAI');
    }
    assert.equal(anthropicCalls().length, 0, 'Anthropic was called although the route sends its calls to OpenAI');
  });

  test('the audit log names what the app asked for and what served it', async () => {
    const records = await waitFor(async () => {
      const { records } = await wallet.call('audit.list', { filter: { origin }, limit: 50 });
      return records.length >= 2 && records;
    }, { message: 'two audit records for the routed calls' });
    for (const record of records.slice(0, 2)) {
      assert.equal(record.provider, 'anthropic');
      assert.equal(record.model, 'claude-sonnet-4-5');
      assert.equal(record.routed?.provider, 'openai', JSON.stringify(record));
      assert.equal(record.routed?.model, 'gpt-4o-mini');
      assert.equal(record.status, 200);
    }
  });

  test('a feature OpenAI cannot express is refused as ROUTE_UNSUPPORTED, with nothing sent', async () => {
    const before = h.mock.calls(PROVIDER_HOSTS.openai).length;
    const out = await page.evaluate(async (text) => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      try {
        await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, top_k: 5, messages: [{ role: 'user', content: text }] });
        return { ok: true };
      } catch (e) {
        return { ok: false, status: e.status, code: e.error?.error?.code, message: String(e.message) };
      }
    }, prompt('rt-topk'));
    assert.equal(out.ok, false, 'top_k was silently dropped');
    assert.equal(out.status, 400);
    assert.equal(out.code, 'ROUTE_UNSUPPORTED', JSON.stringify(out));
    assert.match(out.message, /top_k/);
    assert.equal(h.mock.calls(PROVIDER_HOSTS.openai).length, before, 'something went upstream');
    assert.equal(anthropicCalls().length, 0);
  });

  test('the openai SDK (chat, whole and streamed) is served by Anthropic', async () => {
    const p = { create: prompt('rt-oa-create'), stream: prompt('rt-oa-stream') };
    const out = await page.evaluate(async (p) => {
      const { OpenAI } = window.SDK;
      const client = new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: p.create }] });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: p.stream }],
      });
      let streamed = '';
      let finish = null;
      let usage = null;
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      return { create: chat.choices[0].message.content, finishCreate: chat.choices[0].finish_reason, model: chat.model, streamed, finish, usage };
    }, p);
    assert.equal(out.create, replyText(p.create));
    assert.equal(out.finishCreate, 'stop');
    assert.equal(out.model, 'gpt-4o-mini', 'the app sees the model it asked for');
    assert.equal(out.streamed, replyText(p.stream));
    assert.equal(out.finish, 'stop');
    assert.ok(out.usage?.completion_tokens > 0, `the usage chunk arrived: ${JSON.stringify(out.usage)}`);

    for (const tag of ['rt-oa-create', 'rt-oa-stream']) {
      const calls = anthropicCalls().filter((r) => r.bodyText?.includes(`${tag}-${RUN}`));
      assert.equal(calls.length, 1, `one Anthropic call for ${tag}`);
      const [rec] = calls;
      assert.equal(rec.path, '/v1/messages');
      assert.equal(rec.headers['x-api-key'], KEY.anthropic);
      assert.equal(rec.headers.authorization, undefined, 'Anthropic got an authorization header');
      const body = JSON.parse(rec.bodyText);
      assert.equal(body.model, 'claude-haiku-4-5', 'the route mapped the model');
      assert.ok(body.max_tokens > 0, 'Anthropic needs max_tokens');
      assert.ok(!JSON.stringify({ h: rec.headers, b: rec.bodyText }).includes(KEY.openai.slice(8, 24)), 'the OpenAI key reached Anthropic');
      assert.equal(openaiCalls(tag).length, 0, `OpenAI was called for ${tag}`);
    }
  });
});

// The official SDKs, bundled in a page exactly as an app ships them, talk to the providers
// through Keyfob: `session.createFetch(provider)` is their `fetch`, `session.sessionKey` their
// `apiKey`. Proves, through the real extension and the provider mock:
//   - every SDK (openai, @anthropic-ai/sdk, @google/genai, ai + @ai-sdk/*) gets the provider's
//     exact text, streamed or not, also when the answer is split every 5 bytes or gzip-encoded;
//   - the provider got the real key in its own header and never the session key;
//   - provider errors (429 with retry-after, 500) reach the SDK untouched, so it raises its own
//     typed error after its own retries;
//   - no fragment of any key is anywhere the page can read (lib/leaks.mjs).
//
// @google/genai 3.1 takes a custom fetch as `httpOptions.fetch` (ApiClient.apiCall uses it for
// every request), so no case patches globalThis.fetch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { describeLeaks, findLeaks, needles, pageSurfaces, serializeInPage, watchConsole } from './lib/leaks.mjs';
import { PROVIDER_HOSTS, REPLY_SUFFIX, replyText, requestMock } from './lib/mock-providers.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const PASSWORD = 'e2e sdk wallet: plum anvil 7 orbit';
const HOST = PROVIDER_HOSTS;
const PROVIDERS = ['openai', 'anthropic', 'gemini'];

/** Letters and digits only (JSON never escapes them), from the CSPRNG. */
function randomAlnum(length) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += alphabet[b % 62]; // 248 = 4 × 62: no modulo bias
    }
  }
  return out;
}

// Real-looking keys with per-run random parts: a fragment found anywhere can only come from here.
const RANDOM = { openai: randomAlnum(64), anthropic: randomAlnum(80), gemini: randomAlnum(35) };
const SECRETS = {
  openai: { random: RANDOM.openai, secret: `sk-proj-${RANDOM.openai}` },
  anthropic: { random: RANDOM.anthropic, secret: `sk-ant-api03-${RANDOM.anthropic}AA` },
  gemini: { random: RANDOM.gemini, secret: `AIza${RANDOM.gemini}` },
};
const KEY = Object.fromEntries(Object.entries(SECRETS).map(([p, s]) => [p, s.secret]));
const AUTH_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key'];

const RUN = randomAlnum(8);
/** A prompt whose echo ends in multi-byte UTF-8, with an ASCII tag to find its mock record. */
const prompt = (tag) => `${tag}-${RUN} ünïcødé ✓ 🧪`;

describe('official SDKs through Keyfob', () => {
  let h;
  let page;
  let consoleLog;
  let sessionKey;

  /** The recorded provider calls whose body carries `tag` (each SDK call has its own tag). */
  const callsTagged = (host, tag) => h.mock.calls(host).filter((r) => r.bodyText?.includes(`${tag}-${RUN}`) || r.path.includes(`${tag}-${RUN}`));
  const oneCall = (host, tag) => {
    const calls = callsTagged(host, tag);
    assert.equal(calls.length, 1, `exactly one ${host} request tagged ${tag}: ${calls.map((c) => `${c.method} ${c.path} ${c.status}`).join(', ')}`);
    return calls[0];
  };

  /** The session key (and its MAC part) appears nowhere in what the provider received. */
  function assertNoSessionKey(rec) {
    const seen = JSON.stringify({ headers: rec.headers, path: rec.path, query: rec.query, body: rec.bodyText });
    assert.ok(!seen.includes(sessionKey), `the session key reached ${rec.host}${rec.path}`);
    assert.ok(!seen.includes(sessionKey.slice(4)), `the session key's MAC reached ${rec.host}${rec.path}`);
  }

  /** `rec` carries the real key of `provider` in that provider's header, and nothing else. */
  function assertRealKey(provider, rec) {
    const hd = rec.headers;
    if (provider === 'openai') {
      assert.equal(hd.authorization, `Bearer ${KEY.openai}`);
    } else if (provider === 'anthropic') {
      assert.equal(hd['x-api-key'], KEY.anthropic);
      assert.match(hd['anthropic-version'] ?? '', /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(hd['anthropic-dangerous-direct-browser-access'], 'true');
      assert.equal(hd.authorization, undefined, 'no authorization header reaches Anthropic');
    } else {
      assert.equal(hd['x-goog-api-key'], KEY.gemini);
      assert.equal(hd.authorization, undefined, 'no authorization header reaches Gemini');
    }
    const expected = { openai: 'authorization', anthropic: 'x-api-key', gemini: 'x-goog-api-key' }[provider];
    for (const name of AUTH_HEADERS) {
      if (name !== expected) assert.equal(hd[name], undefined, `${rec.host} got a ${name} header`);
    }
    // A key goes only to its provider.
    const all = JSON.stringify({ headers: hd, query: rec.query, body: rec.bodyText });
    for (const other of PROVIDERS) {
      if (other !== provider) assert.ok(!all.includes(SECRETS[other].random.slice(0, 16)), `the ${other} key reached ${rec.host}`);
    }
    assertNoSessionKey(rec);
    assert.equal(rec.attacker, false);
  }

  before(async () => {
    h = await startHarness();
    const wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    for (const provider of PROVIDERS) {
      await wallet.addCredential({ provider, label: `E2E ${provider}`, secret: KEY[provider] });
    }
    await wallet.close();

    // The console is watched from the first byte the page runs.
    page = await h.browser.context.newPage();
    consoleLog = watchConsole(page);
    await page.goto(h.pages.a.url('/sdk.html'), { waitUntil: 'load' });
    await page.waitForFunction(() => document.documentElement.dataset.sdk && window.keyfob);
    assert.equal(await page.evaluate(() => window.SDK_ERROR ?? null), null, 'the SDK bundles load');
    await page.evaluate(() => window.SDK_READY);

    const connected = page.evaluate(async (ids) => {
      const session = await window.keyfob.connect({ providers: ids.map((id) => ({ id, required: true })) });
      window.session = session; // as an app keeps it
      window.results = {};
      return { sessionKey: session.sessionKey, providers: JSON.parse(JSON.stringify(session.providers)) };
    }, PROVIDERS);
    const shown = await approveNext(h.browser.context, { providers: PROVIDERS, password: PASSWORD });
    assert.ok(shown.text.includes(h.pages.a.origin), 'the approval window names the origin');
    const session = await connected;
    sessionKey = session.sessionKey;
    assert.deepEqual(session.providers, { openai: { available: true }, anthropic: { available: true }, gemini: { available: true } });
  });

  after(async () => {
    await h?.teardown();
  });

  test('connect gives an opaque session key, unrelated to any provider key', () => {
    assert.match(sessionKey, /^kfs_[A-Za-z0-9_-]{43}$/);
    const hits = findLeaks([{ where: 'sessionKey', text: sessionKey }], needles(SECRETS, { width: 6 }));
    assert.deepEqual(hits, [], describeLeaks(hits));
  });

  test('openai SDK: chat completions and responses, non-streaming and streaming', async () => {
    const p = { chat: prompt('oa-chat'), chatStream: prompt('oa-chat-stream'), resp: prompt('oa-resp'), respStream: prompt('oa-resp-stream') };
    const out = await page.evaluate(async (p) => {
      const { OpenAI } = window.SDK;
      const client = new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: p.chat }] });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: p.chatStream }],
      });
      let chatStream = '';
      let usage = null;
      for await (const chunk of stream) {
        chatStream += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage ?? usage;
      }
      const resp = await client.responses.create({ model: 'gpt-4o', input: p.resp });
      let respStream = '';
      const events = await client.responses.create({ model: 'gpt-4o', input: p.respStream, stream: true });
      for await (const e of events) if (e.type === 'response.output_text.delta') respStream += e.delta;
      window.results.openai = { chat, resp };
      console.log('openai chat', chat);
      return { chat: chat.choices[0].message.content, requestId: chat._request_id, chatStream, usage, resp: resp.output_text, respStream };
    }, p);
    assert.equal(out.chat, replyText(p.chat));
    assert.equal(out.chatStream, replyText(p.chatStream));
    assert.ok(out.chatStream.endsWith(REPLY_SUFFIX));
    assert.ok(out.usage?.total_tokens > 0, 'the usage chunk arrived');
    assert.equal(out.resp, replyText(p.resp));
    assert.equal(out.respStream, replyText(p.respStream));
    assert.match(out.requestId ?? '', /^req_mock_[0-9a-f]{8}$/, 'x-request-id reached the SDK');

    const routes = { chat: 'openai.chat', chatStream: 'openai.chat.stream', resp: 'openai.responses', respStream: 'openai.responses.stream' };
    for (const [name, tag] of [['chat', 'oa-chat'], ['chatStream', 'oa-chat-stream'], ['resp', 'oa-resp'], ['respStream', 'oa-resp-stream']]) {
      const rec = oneCall(HOST.openai, tag);
      assert.equal(rec.route, routes[name]);
      assert.equal(rec.status, 200);
      assertRealKey('openai', rec);
    }
  });

  test('anthropic SDK: messages.create and messages.stream', async () => {
    const p = { create: prompt('an-create'), stream: prompt('an-stream') };
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
      window.results.anthropic = { msg, final };
      console.log('anthropic message', msg);
      return { create: msg.content[0].text, requestId: msg._request_id, deltas, final: final.content[0].text, stop: final.stop_reason };
    }, p);
    assert.equal(out.create, replyText(p.create));
    assert.equal(out.deltas, replyText(p.stream));
    assert.equal(out.final, replyText(p.stream));
    assert.equal(out.stop, 'end_turn');
    assert.match(out.requestId ?? '', /^req_[0-9a-f]{8}$/, 'request-id reached the SDK');

    const create = oneCall(HOST.anthropic, 'an-create');
    assert.equal(create.route, 'anthropic.messages');
    const stream = oneCall(HOST.anthropic, 'an-stream');
    assert.equal(stream.route, 'anthropic.messages.stream');
    for (const rec of [create, stream]) {
      assert.equal(rec.status, 200);
      assertRealKey('anthropic', rec);
    }
  });

  test('gemini SDK (httpOptions.fetch): generateContent and generateContentStream', async () => {
    const p = { one: prompt('gm-one'), stream: prompt('gm-stream') };
    const out = await page.evaluate(async (p) => {
      const { GoogleGenAI } = window.SDK;
      const client = new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: session.createFetch('gemini') } });
      const one = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: p.one });
      let streamed = '';
      let last = null;
      for await (const chunk of await client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: p.stream })) {
        streamed += chunk.text ?? '';
        last = chunk;
      }
      window.results.gemini = { one, last };
      console.log('gemini', one);
      return { one: one.text, streamed, finish: last?.candidates?.[0]?.finishReason ?? null };
    }, p);
    assert.equal(out.one, replyText(p.one));
    assert.equal(out.streamed, replyText(p.stream));
    assert.equal(out.finish, 'STOP');

    const one = oneCall(HOST.gemini, 'gm-one');
    assert.match(one.path, /^\/v1(beta)?\/models\/gemini-2\.5-flash:generateContent$/);
    const stream = oneCall(HOST.gemini, 'gm-stream');
    assert.match(stream.path, /^\/v1(beta)?\/models\/gemini-2\.5-flash:streamGenerateContent$/);
    assert.match(stream.route, /^gemini\.v1(beta)?\.stream$/, 'the SSE form (alt=sse) was asked for');
    for (const rec of [one, stream]) {
      assert.equal(rec.status, 200);
      assert.ok(!rec.query.includes('key='), 'the key never travels in the query');
      assertRealKey('gemini', rec);
    }
  });

  test('ai SDK with @ai-sdk/openai: generateText (responses) and streamText (chat)', async () => {
    const p = { gen: prompt('ai-oa-gen'), stream: prompt('ai-oa-stream') };
    const out = await page.evaluate(async (p) => {
      const { ai, createOpenAI } = window.SDK;
      const openai = createOpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai') });
      const gen = await ai.generateText({ model: openai('gpt-4o'), prompt: p.gen, maxRetries: 0 });
      const errors = [];
      const st = ai.streamText({ model: openai.chat('gpt-4o-mini'), prompt: p.stream, maxRetries: 0, onError: ({ error }) => errors.push(String(error?.stack ?? error)) });
      let streamed = '';
      for await (const d of st.textStream) streamed += d;
      window.results.aiOpenai = { gen: gen.response?.body ?? null };
      return { gen: gen.text, streamed, errors };
    }, p);
    assert.deepEqual(out.errors, []);
    assert.equal(out.gen, replyText(p.gen));
    assert.equal(out.streamed, replyText(p.stream));
    const gen = oneCall(HOST.openai, 'ai-oa-gen');
    assert.equal(gen.route, 'openai.responses');
    const stream = oneCall(HOST.openai, 'ai-oa-stream');
    assert.equal(stream.route, 'openai.chat.stream');
    for (const rec of [gen, stream]) {
      assert.equal(rec.status, 200);
      assertRealKey('openai', rec);
    }
  });

  test('ai SDK with @ai-sdk/anthropic: generateText and streamText', async () => {
    const p = { gen: prompt('ai-an-gen'), stream: prompt('ai-an-stream') };
    const out = await page.evaluate(async (p) => {
      const { ai, createAnthropic } = window.SDK;
      // No browser opt-in header here: @ai-sdk/anthropic does not send one, Keyfob must.
      const anthropic = createAnthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic') });
      const gen = await ai.generateText({ model: anthropic('claude-sonnet-4-5'), prompt: p.gen, maxRetries: 0 });
      const errors = [];
      const st = ai.streamText({ model: anthropic('claude-sonnet-4-5'), prompt: p.stream, maxRetries: 0, onError: ({ error }) => errors.push(String(error?.stack ?? error)) });
      let streamed = '';
      for await (const d of st.textStream) streamed += d;
      return { gen: gen.text, streamed, errors };
    }, p);
    assert.deepEqual(out.errors, []);
    assert.equal(out.gen, replyText(p.gen));
    assert.equal(out.streamed, replyText(p.stream));
    const gen = oneCall(HOST.anthropic, 'ai-an-gen');
    assert.equal(gen.route, 'anthropic.messages');
    const stream = oneCall(HOST.anthropic, 'ai-an-stream');
    assert.equal(stream.route, 'anthropic.messages.stream');
    for (const rec of [gen, stream]) {
      assert.equal(rec.status, 200);
      assertRealKey('anthropic', rec);
    }
  });

  test('each SDK hands fetch the session key in its own auth header; the provider gets only the real key', async () => {
    // A recording wrapper around createFetch: it notes the headers each SDK passed, then
    // calls the Keyfob fetch with exactly the same arguments.
    const tags = { openai: 'hd-openai', anthropic: 'hd-anthropic', gemini: 'hd-gemini', aiOpenai: 'hd-ai-openai', aiAnthropic: 'hd-ai-anthropic' };
    const p = Object.fromEntries(Object.entries(tags).map(([k, t]) => [k, prompt(t)]));
    const sent = await page.evaluate(async (p) => {
      const { OpenAI, Anthropic, GoogleGenAI, ai, createOpenAI, createAnthropic } = window.SDK;
      const sent = {};
      const spy = (name, provider) => {
        const f = session.createFetch(provider);
        return (input, init) => {
          sent[name] = Object.fromEntries(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)));
          return f(input, init);
        };
      };
      const oa = new OpenAI({ apiKey: session.sessionKey, fetch: spy('openai', 'openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      await oa.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: p.openai }] });
      const an = new Anthropic({ apiKey: session.sessionKey, fetch: spy('anthropic', 'anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      await an.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: p.anthropic }] });
      const gm = new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: spy('gemini', 'gemini') } });
      await gm.models.generateContent({ model: 'gemini-2.5-flash', contents: p.gemini });
      await ai.generateText({ model: createOpenAI({ apiKey: session.sessionKey, fetch: spy('aiOpenai', 'openai') }).chat('gpt-4o-mini'), prompt: p.aiOpenai, maxRetries: 0 });
      await ai.generateText({ model: createAnthropic({ apiKey: session.sessionKey, fetch: spy('aiAnthropic', 'anthropic') })('claude-sonnet-4-5'), prompt: p.aiAnthropic, maxRetries: 0 });
      return sent;
    }, p);

    // What each SDK put in its auth header: the session key, never anything else.
    assert.equal(sent.openai.authorization, `Bearer ${sessionKey}`);
    assert.equal(sent.aiOpenai.authorization, `Bearer ${sessionKey}`);
    assert.equal(sent.gemini['x-goog-api-key'], sessionKey);
    const anthropicAuth = sent.anthropic['x-api-key'] ?? sent.anthropic.authorization?.replace(/^Bearer /, '');
    assert.equal(anthropicAuth, sessionKey);
    assert.equal(sent.aiAnthropic['x-api-key'], sessionKey);
    assert.equal(sent.aiAnthropic['anthropic-dangerous-direct-browser-access'], undefined, '@ai-sdk/anthropic sends no browser opt-in');

    const provider = { openai: 'openai', aiOpenai: 'openai', anthropic: 'anthropic', aiAnthropic: 'anthropic', gemini: 'gemini' };
    for (const [name, tag] of Object.entries(tags)) {
      const rec = oneCall(HOST[provider[name]], tag);
      assert.equal(rec.status, 200, `${name}: ${rec.route}`);
      assertRealKey(provider[name], rec);
      if (provider[name] === 'anthropic') {
        // The SDK's own API version is forwarded as sent.
        assert.equal(rec.headers['anthropic-version'], sent[name]['anthropic-version'], `${name}: anthropic-version`);
      }
    }
  });

  test('openai SDK: a 429 with retry-after is retried by the SDK itself, then raises RateLimitError', async () => {
    const p = prompt('oa-429');
    const out = await page.evaluate(async (p) => {
      const { OpenAI } = window.SDK;
      const client = new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 1 });
      // Note the delays the SDK asks timers for: a retry honouring `retry-after-ms: 10` sleeps
      // 10 ms; without the header the SDK would back off 375–500 ms.
      const delays = [];
      const realSetTimeout = window.setTimeout;
      window.setTimeout = function (fn, ms, ...rest) {
        delays.push(ms);
        return realSetTimeout.call(this, fn, ms, ...rest);
      };
      let error = null;
      try {
        await client.chat.completions.create({ model: 'gpt-4o-mini-mock-429', messages: [{ role: 'user', content: p }] });
      } catch (e) {
        error = e;
      } finally {
        window.setTimeout = realSetTimeout;
      }
      window.results.openai429 = error;
      console.error('openai rate limited', error);
      return {
        threw: error !== null,
        ctor: error?.constructor?.name,
        isRateLimit: error instanceof OpenAI.RateLimitError,
        status: error?.status,
        code: error?.code ?? null,
        body: error?.error ?? null,
        requestID: error?.requestID ?? null,
        retryAfter: error?.headers?.get?.('retry-after') ?? null,
        retryAfterMs: error?.headers?.get?.('retry-after-ms') ?? null,
        delays,
      };
    }, p);
    assert.ok(out.threw, 'the call must fail');
    assert.equal(out.status, 429);
    assert.equal(out.ctor, 'RateLimitError');
    assert.ok(out.isRateLimit, 'instanceof OpenAI.RateLimitError');
    assert.equal(out.code, 'rate_limit_exceeded');
    assert.equal(out.body?.type, 'requests');
    assert.match(out.requestID ?? '', /^req_mock_[0-9a-f]{8}$/);
    assert.equal(out.retryAfter, '0');
    assert.equal(out.retryAfterMs, '10');
    assert.ok(out.delays.includes(10), `the SDK slept retry-after-ms (timer delays: ${out.delays.join(', ')})`);
    const calls = callsTagged(HOST.openai, 'oa-429');
    assert.equal(calls.length, 2, 'maxRetries: 1 → the first try and one retry reached the provider');
    for (const rec of calls) {
      assert.equal(rec.status, 429);
      assertRealKey('openai', rec);
    }
  });

  test('anthropic SDK: a 429 with retry-after is retried by the SDK itself, then raises RateLimitError', async () => {
    const p = prompt('an-429');
    const out = await page.evaluate(async (p) => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 1 });
      const delays = [];
      const realSetTimeout = window.setTimeout;
      window.setTimeout = function (fn, ms, ...rest) {
        delays.push(ms);
        return realSetTimeout.call(this, fn, ms, ...rest);
      };
      let error = null;
      try {
        await client.messages.create({ model: 'claude-sonnet-4-5-mock-429', max_tokens: 64, messages: [{ role: 'user', content: p }] });
      } catch (e) {
        error = e;
      } finally {
        window.setTimeout = realSetTimeout;
      }
      window.results.anthropic429 = error;
      console.error('anthropic rate limited', error);
      return {
        threw: error !== null,
        name: error?.name,
        isRateLimit: error instanceof Anthropic.RateLimitError,
        status: error?.status,
        type: error?.type ?? null,
        body: error?.error ?? null,
        requestID: error?.requestID ?? null,
        retryAfter: error?.headers?.get?.('retry-after') ?? null,
        retryAfterMs: error?.headers?.get?.('retry-after-ms') ?? null,
        delays,
      };
    }, p);
    assert.ok(out.threw, 'the call must fail');
    assert.equal(out.status, 429);
    // The bundle names the class RateLimitError2 (an IIFE); the SDK's own name is `name`.
    assert.equal(out.name, 'RateLimitError');
    assert.ok(out.isRateLimit, 'instanceof Anthropic.RateLimitError');
    assert.equal(out.type, 'rate_limit_error');
    assert.equal(out.body?.error?.type, 'rate_limit_error');
    assert.match(out.requestID ?? '', /^req_[0-9a-f]{8}$/);
    assert.equal(out.body?.request_id, out.requestID, 'the body and the request-id header come from the same answer');
    assert.equal(out.retryAfter, '0');
    assert.equal(out.retryAfterMs, '10');
    assert.ok(out.delays.includes(10), `the SDK slept retry-after-ms (timer delays: ${out.delays.join(', ')})`);
    const calls = callsTagged(HOST.anthropic, 'an-429');
    assert.equal(calls.length, 2, 'maxRetries: 1 → the first try and one retry reached the provider');
    for (const rec of calls) {
      assert.equal(rec.status, 429);
      assertRealKey('anthropic', rec);
    }
  });

  for (const knob of ['split', 'gzip']) {
    test(`mock-${knob}: every SDK's stream arrives with the exact text`, async () => {
      const tag = (t) => `${knob}-${t}`;
      const p = {
        openai: prompt(tag('oa')),
        openaiJson: prompt(tag('oa-json')),
        anthropic: prompt(tag('an')),
        gemini: prompt(tag('gm')),
        aiOpenai: prompt(tag('ai-oa')),
        aiAnthropic: prompt(tag('ai-an')),
      };
      const out = await page.evaluate(async ({ p, knob }) => {
        const { OpenAI, Anthropic, GoogleGenAI, ai, createOpenAI, createAnthropic } = window.SDK;
        const r = {};
        const oa = new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
        let t = '';
        for await (const c of await oa.chat.completions.create({ model: `gpt-4o-mini-mock-${knob}`, stream: true, messages: [{ role: 'user', content: p.openai }] })) {
          t += c.choices[0]?.delta?.content ?? '';
        }
        r.openai = t;
        r.openaiJson = (await oa.chat.completions.create({ model: `gpt-4o-mini-mock-${knob}`, messages: [{ role: 'user', content: p.openaiJson }] })).choices[0].message.content;

        const an = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
        const s = an.messages.stream({ model: `claude-sonnet-4-5-mock-${knob}`, max_tokens: 64, messages: [{ role: 'user', content: p.anthropic }] });
        r.anthropic = (await s.finalMessage()).content[0].text;

        const gm = new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: session.createFetch('gemini') } });
        t = '';
        for await (const c of await gm.models.generateContentStream({ model: `gemini-2.5-flash-mock-${knob}`, contents: p.gemini })) t += c.text ?? '';
        r.gemini = t;

        const errors = [];
        const onError = ({ error }) => errors.push(String(error?.stack ?? error));
        const aiOpenai = createOpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai') });
        t = '';
        for await (const d of ai.streamText({ model: aiOpenai(`gpt-4o-mock-${knob}`), prompt: p.aiOpenai, maxRetries: 0, onError }).textStream) t += d;
        r.aiOpenai = t;
        const aiAnthropic = createAnthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic') });
        t = '';
        for await (const d of ai.streamText({ model: aiAnthropic(`claude-sonnet-4-5-mock-${knob}`), prompt: p.aiAnthropic, maxRetries: 0, onError }).textStream) t += d;
        r.aiAnthropic = t;
        r.errors = errors;
        return r;
      }, { p, knob });
      assert.deepEqual(out.errors, []);
      for (const name of Object.keys(p)) assert.equal(out[name], replyText(p[name]), `${name} under mock-${knob}`);

      const expected = {
        openai: [HOST.openai, 'openai.chat.stream'],
        openaiJson: [HOST.openai, 'openai.chat'],
        anthropic: [HOST.anthropic, 'anthropic.messages.stream'],
        gemini: [HOST.gemini, /^gemini\.v1(beta)?\.stream$/],
        aiOpenai: [HOST.openai, 'openai.responses.stream'],
        aiAnthropic: [HOST.anthropic, 'anthropic.messages.stream'],
      };
      const tags = { openai: 'oa', openaiJson: 'oa-json', anthropic: 'an', gemini: 'gm', aiOpenai: 'ai-oa', aiAnthropic: 'ai-an' };
      for (const [name, [host, route]] of Object.entries(expected)) {
        const rec = oneCall(host, tag(tags[name]));
        if (route instanceof RegExp) assert.match(rec.route, route);
        else assert.equal(rec.route, route, name);
        assert.match(rec.path + JSON.stringify(rec.bodyText), new RegExp(`mock-${knob}`), `${name} asked for mock-${knob}`);
        assert.equal(rec.finished, true, `${name}: the mock wrote the whole answer`);
      }
    });
  }

  test('a provider 500 passes through untouched: status, JSON body and request id, raw and in each SDK error', async () => {
    // The mock's own answers, asked for directly from Node, are the reference bodies.
    const direct = { 'x-e2e-direct': '1' };
    const ref = {
      openai: (await requestMock(h.mock.port, HOST.openai, { method: 'POST', path: '/v1/chat/completions', headers: direct, body: { model: 'mock-500', messages: [] } })).text(),
      anthropic: (await requestMock(h.mock.port, HOST.anthropic, { method: 'POST', path: '/v1/messages', headers: direct, body: { model: 'mock-500', messages: [] } })).text(),
      gemini: (await requestMock(h.mock.port, HOST.gemini, { method: 'POST', path: '/v1beta/models/mock-500:generateContent', headers: direct, body: { contents: [] } })).text(),
    };
    const p = { rawOpenai: prompt('e500-raw-oa'), rawAnthropic: prompt('e500-raw-an'), rawGemini: prompt('e500-raw-gm'), openai: prompt('e500-oa'), anthropic: prompt('e500-an'), gemini: prompt('e500-gm') };
    const out = await page.evaluate(async (p) => {
      const { OpenAI, Anthropic, GoogleGenAI } = window.SDK;
      const raw = async (provider, url, body, headers = {}) => {
        const res = await session.createFetch(provider)(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
        return { status: res.status, ok: res.ok, headers: Object.fromEntries(res.headers), body: await res.text() };
      };
      const r = {};
      r.rawOpenai = await raw('openai', 'https://api.openai.com/v1/chat/completions', { model: 'gpt-4o-mini-mock-500', messages: [{ role: 'user', content: p.rawOpenai }] });
      r.rawAnthropic = await raw('anthropic', 'https://api.anthropic.com/v1/messages', { model: 'claude-sonnet-4-5-mock-500', max_tokens: 8, messages: [{ role: 'user', content: p.rawAnthropic }] }, { 'anthropic-version': '2023-06-01' });
      r.rawGemini = await raw('gemini', 'https://generativelanguage.googleapis.com/v1beta/models/mock-500:generateContent', { contents: [{ role: 'user', parts: [{ text: p.rawGemini }] }] });

      const caught = async (fn) => {
        try {
          await fn();
          return null;
        } catch (e) {
          console.error('provider 500', e);
          return e;
        }
      };
      const oaErr = await caught(() =>
        new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 })
          .chat.completions.create({ model: 'gpt-4o-mini-mock-500', messages: [{ role: 'user', content: p.openai }] }));
      const anErr = await caught(() =>
        new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 })
          .messages.create({ model: 'claude-sonnet-4-5-mock-500', max_tokens: 8, messages: [{ role: 'user', content: p.anthropic }] }));
      const gmErr = await caught(() =>
        new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: session.createFetch('gemini') } })
          .models.generateContent({ model: 'mock-500', contents: p.gemini }));
      window.results.errors500 = { oaErr, anErr, gmErr };
      r.openai = oaErr && { ctor: oaErr.constructor.name, isInternal: oaErr instanceof OpenAI.InternalServerError, status: oaErr.status, error: oaErr.error, requestID: oaErr.requestID };
      r.anthropic = anErr && { name: anErr.name, isInternal: anErr instanceof Anthropic.InternalServerError, status: anErr.status, error: anErr.error, requestID: anErr.requestID };
      r.gemini = gmErr && { name: gmErr.name, status: gmErr.status, message: gmErr.message };
      return r;
    }, p);

    for (const [name, provider] of [['rawOpenai', 'openai'], ['rawAnthropic', 'anthropic'], ['rawGemini', 'gemini']]) {
      const got = out[name];
      assert.equal(got.status, 500, name);
      assert.equal(got.ok, false);
      assert.match(got.headers['content-type'] ?? '', /^application\/json/, `${name}: content-type`);
      assert.match(got.headers['x-request-id'] ?? '', /^req_mock_[0-9a-f]{8}$/, `${name}: x-request-id`);
      assert.equal(got.headers['x-keyfob-error'], undefined, `${name}: a provider error is not a wallet error`);
      if (provider === 'anthropic') {
        // The body names its own request id; everything else is byte-identical to the mock's.
        const rid = got.headers['request-id'];
        assert.match(rid ?? '', /^req_[0-9a-f]{8}$/);
        const expected = JSON.parse(ref.anthropic);
        expected.request_id = rid;
        assert.equal(got.body, JSON.stringify(expected), name);
      } else {
        assert.equal(got.body, ref[provider], name);
      }
    }

    assert.ok(out.openai, 'the openai SDK raised');
    assert.equal(out.openai.status, 500);
    assert.equal(out.openai.ctor, 'InternalServerError');
    assert.ok(out.openai.isInternal);
    assert.deepEqual(out.openai.error, JSON.parse(ref.openai).error);
    assert.match(out.openai.requestID ?? '', /^req_mock_[0-9a-f]{8}$/);

    assert.ok(out.anthropic, 'the anthropic SDK raised');
    assert.equal(out.anthropic.status, 500);
    assert.equal(out.anthropic.name, 'InternalServerError');
    assert.ok(out.anthropic.isInternal);
    assert.deepEqual(out.anthropic.error, { ...JSON.parse(ref.anthropic), request_id: out.anthropic.requestID });
    assert.match(out.anthropic.requestID ?? '', /^req_[0-9a-f]{8}$/);

    assert.ok(out.gemini, 'the gemini SDK raised');
    assert.equal(out.gemini.status, 500);
    assert.ok(out.gemini.message.includes(JSON.parse(ref.gemini).error.message), out.gemini.message);
    assert.ok(out.gemini.message.includes('INTERNAL'), out.gemini.message);

    // No SDK retried (maxRetries: 0; genai retries only when asked): one request each.
    for (const [host, tag, provider] of [
      [HOST.openai, 'e500-raw-oa', 'openai'], [HOST.anthropic, 'e500-raw-an', 'anthropic'], [HOST.gemini, 'e500-raw-gm', 'gemini'],
      [HOST.openai, 'e500-oa', 'openai'], [HOST.anthropic, 'e500-an', 'anthropic'], [HOST.gemini, 'e500-gm', 'gemini'],
    ]) {
      const rec = oneCall(host, tag);
      assert.equal(rec.status, 500);
      assertRealKey(provider, rec);
    }
  });

  // ---------------------------------------------------------------------------------------------
  // Leaks: run last, so the console and `window` hold everything the earlier tests left there.

  /** Runs SDK and raw calls through a recording `fetch`; returns a handle to what the page read. */
  async function runTappedCalls(canary = null) {
    return page.evaluateHandle(async (canary) => {
      const { OpenAI, Anthropic, GoogleGenAI, ai, createOpenAI, createAnthropic } = window.SDK;
      const responses = [];
      const pending = [];
      // What an app's logging fetch wrapper would see: every response's status, headers and body.
      const tap = (provider) => {
        const f = session.createFetch(provider);
        return async (input, init) => {
          const res = await f(input, init);
          const entry = { provider, url: res.url, status: res.status, statusText: res.statusText, headers: [...res.headers] };
          responses.push(entry);
          pending.push(res.clone().text().then((t) => { entry.body = t; }, (e) => { entry.bodyError = String(e); }));
          return res;
        };
      };
      const errors = [];
      const attempt = async (label, fn) => {
        try {
          return await fn();
        } catch (e) {
          errors.push({ label, error: e });
          console.error(label, e);
          return null;
        }
      };
      const say = (t) => (canary ? `${t} ${canary}` : t);
      const oa = new OpenAI({ apiKey: session.sessionKey, fetch: tap('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const an = new Anthropic({ apiKey: session.sessionKey, fetch: tap('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const gm = new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: tap('gemini') } });
      const results = [];
      results.push(await attempt('openai chat', () => oa.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: say('leak-oa') }] })));
      if (canary) return { responses, errors, pending: await Promise.all(pending) };
      await attempt('openai stream', async () => {
        for await (const c of await oa.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'leak-oa-stream' }] })) results.push(c);
      });
      results.push(await attempt('openai responses', () => oa.responses.create({ model: 'gpt-4o', input: 'leak-oa-resp' })));
      await attempt('openai 429', () => oa.chat.completions.create({ model: 'gpt-4o-mini-mock-429', messages: [{ role: 'user', content: 'leak-oa-429' }] }));
      await attempt('openai 500', () => oa.chat.completions.create({ model: 'gpt-4o-mini-mock-500', messages: [{ role: 'user', content: 'leak-oa-500' }] }));
      // Wallet-raised errors: a refused path, a redirect the worker must not follow, and a
      // provider this origin was never granted.
      await attempt('openai refused path', () => oa.get('/organization/api_keys'));
      await attempt('openai redirect', () => oa.chat.completions.create({ model: 'gpt-4o-mini-mock-redirect', messages: [{ role: 'user', content: 'leak-oa-redirect' }] }));
      const mistral = new OpenAI({ apiKey: session.sessionKey, baseURL: 'https://api.mistral.ai/v1', fetch: tap('mistral'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      await attempt('mistral not granted', () => mistral.chat.completions.create({ model: 'mistral-small', messages: [{ role: 'user', content: 'leak-mistral' }] }));

      results.push(await attempt('anthropic create', () => an.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'leak-an' }] })));
      results.push(await attempt('anthropic stream', () => an.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'leak-an-stream' }] }).finalMessage()));
      await attempt('anthropic 429', () => an.messages.create({ model: 'claude-mock-429', max_tokens: 64, messages: [{ role: 'user', content: 'leak-an-429' }] }));
      await attempt('anthropic 500', () => an.messages.create({ model: 'claude-mock-500', max_tokens: 64, messages: [{ role: 'user', content: 'leak-an-500' }] }));

      results.push(await attempt('gemini generate', () => gm.models.generateContent({ model: 'gemini-2.5-flash', contents: 'leak-gm' })));
      await attempt('gemini stream', async () => {
        for await (const c of await gm.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'leak-gm-stream' })) results.push(c);
      });
      await attempt('gemini 429', () => gm.models.generateContent({ model: 'mock-429', contents: 'leak-gm-429' }));
      await attempt('gemini 500', () => gm.models.generateContent({ model: 'mock-500', contents: 'leak-gm-500' }));

      results.push(await attempt('ai openai', () => ai.generateText({ model: createOpenAI({ apiKey: session.sessionKey, fetch: tap('openai') })('gpt-4o'), prompt: 'leak-ai-oa', maxRetries: 0 })));
      results.push(await attempt('ai anthropic', () => ai.generateText({ model: createAnthropic({ apiKey: session.sessionKey, fetch: tap('anthropic') })('claude-sonnet-4-5'), prompt: 'leak-ai-an', maxRetries: 0 })));
      await attempt('ai openai 429', () => ai.generateText({ model: createOpenAI({ apiKey: session.sessionKey, fetch: tap('openai') }).chat('gpt-4o-mini-mock-429'), prompt: 'leak-ai-429', maxRetries: 0 }));

      await Promise.all(pending);
      // An app shows answers and errors on the page and keeps them around.
      const app = document.getElementById('app');
      for (const { label, error } of errors) {
        const li = document.createElement('p');
        li.textContent = `${label}: ${error?.message}`;
        app.append(li);
      }
      window.results.leakRun = { responses, errors, results };
      return { responses, errors, results };
    }, canary);
  }

  test('the leak scanner finds a canary in every surface it checks (self-test)', async () => {
    const C = Object.fromEntries(['dom', 'window', 'local', 'session', 'cookie', 'console', 'response'].map((k) => [k, `canary${k}${randomAlnum(24)}`]));
    const canaries = Object.fromEntries(Object.entries(C).map(([k, v]) => [k, { secret: v, random: v.slice(-24) }]));
    await page.evaluate((C) => {
      document.getElementById('app').dataset.note = C.dom;
      // Only reachable through a Map and an Error's non-enumerable cause.
      window.canaryHolder = { list: [new Map([['k', new Error('nothing here', { cause: { deep: C.window } })]])] };
      localStorage.setItem('canary', C.local);
      sessionStorage.setItem('canary', C.session);
      document.cookie = `canary=${C.cookie}`;
      console.log('an object', { nested: [new Error(`inside ${C.console}`)] });
    }, C);
    const tapped = await runTappedCalls(C.response);
    const read = await tapped.evaluate(serializeInPage);
    await tapped.dispose();
    await consoleLog.settle();
    const surfaces = [...(await pageSurfaces(page)), consoleLog.surface(), { where: 'responses', text: read }];
    const hits = findLeaks(surfaces, needles(canaries));
    const found = (name, where) => hits.some((x) => x.name === name && x.where === where);
    assert.ok(found('dom', 'dom'), 'a DOM attribute');
    assert.ok(found('window', 'window'), 'a window property behind a Map and an Error cause');
    assert.ok(found('local', 'localStorage'), 'localStorage');
    assert.ok(found('session', 'sessionStorage'), 'sessionStorage');
    assert.ok(found('cookie', 'cookie'), 'document.cookie');
    assert.ok(found('console', 'console'), 'an Error nested in a console argument');
    assert.ok(found('response', 'responses'), 'a response body (the mock echoes the prompt)');
    // The window scan is no blanket match: the DOM canary is not in it (nodes are skipped).
    assert.ok(!found('dom', 'window'), 'window scan skips DOM nodes');
    await page.evaluate(() => {
      delete window.canaryHolder;
      localStorage.removeItem('canary');
      sessionStorage.removeItem('canary');
      document.cookie = 'canary=; max-age=0';
      delete document.getElementById('app').dataset.note;
    });
  });

  test('no fragment of any key is anywhere the page can read', async () => {
    const handle = await runTappedCalls();
    const summary = await handle.evaluate((r) => ({
      responses: r.responses.map((x) => ({ provider: x.provider, status: x.status, keyfobError: x.headers.find(([k]) => k === 'x-keyfob-error')?.[1] ?? null, hasBody: typeof x.body === 'string' })),
      errors: r.errors.map((x) => ({ label: x.label, status: x.error?.status ?? null })),
      texts: r.responses.map((x) => x.body ?? ''),
    }));
    const readByPage = await handle.evaluate(serializeInPage);
    await handle.dispose();

    // The run really exercised successes, provider errors and wallet errors, with bodies read.
    const statuses = summary.responses.map((x) => x.status);
    for (const s of [200, 429, 500]) assert.ok(statuses.includes(s), `a ${s} answer was read (saw ${statuses.join(', ')})`);
    assert.ok(summary.responses.every((x) => x.hasBody), 'every body was read');
    const walletErrors = summary.responses.filter((x) => x.keyfobError);
    assert.ok(walletErrors.length >= 3, `wallet errors were read: ${JSON.stringify(walletErrors)}`);
    assert.ok(summary.texts.some((t) => t.includes(REPLY_SUFFIX)), 'answer text was read');
    const failed = summary.errors.map((e) => e.label).sort();
    assert.deepEqual(
      failed,
      ['ai openai 429', 'anthropic 429', 'anthropic 500', 'gemini 429', 'gemini 500', 'mistral not granted', 'openai 429', 'openai 500', 'openai redirect', 'openai refused path'].sort(),
      `exactly the error cases failed: ${JSON.stringify(summary.errors)}`,
    );
    // The keys were in play: each provider got its own.
    for (const provider of PROVIDERS) {
      assert.ok(h.mock.calls(HOST[provider]).some((r) => AUTH_HEADERS.some((n) => (r.headers[n] ?? '').includes(KEY[provider]))), `${provider} received its key`);
    }

    await consoleLog.settle();
    const surfaces = [
      { where: 'responses', text: readByPage },
      ...(await pageSurfaces(page)),
      consoleLog.surface(),
    ];
    const byName = Object.fromEntries(surfaces.map((s) => [s.where, s.text]));
    // The scan covers what the tests left behind: the session, the SDK results and errors.
    assert.ok(byName.window.includes(sessionKey), 'the window scan reaches window.session');
    assert.ok(byName.window.includes('Rate limit reached (mock)'), 'the window scan reaches the stored SDK errors');
    assert.ok(byName.console.includes('rate limited'), 'the console capture holds the page logs');
    assert.ok(byName.dom.includes('openai 429'), 'the page rendered its errors');

    const hits = findLeaks(surfaces, needles(SECRETS));
    assert.deepEqual(hits.map((x) => `${x.name} in ${x.where}`), [], describeLeaks(hits));
  });

  test('the providers never received the session key, and no other host was reached', () => {
    const calls = h.mock.calls().filter((r) => r.headers['x-e2e-direct'] !== '1');
    assert.ok(calls.length > 40, `the file made many provider calls (${calls.length})`);
    for (const rec of calls) {
      assertNoSessionKey(rec);
      const provider = Object.keys(HOST).find((p) => HOST[p] === rec.host);
      assert.ok(provider, `a request reached ${rec.host}`);
      assertRealKey(provider, rec);
    }
    assert.deepEqual(h.mock.attackerHits(), [], 'no request reached an attacker host (e.g. after a redirect)');
  });
});

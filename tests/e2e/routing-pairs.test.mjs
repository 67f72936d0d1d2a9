// More routed pairs through the real extension, each with the official SDK unchanged in
// the page and the site's route set for the case (with routing.test.mjs, every directed
// pair of the four dialects that two different providers can serve): the Anthropic SDK served by Gemini and
// by OpenAI Responses (a route `via` that API), the
// openai SDK's Responses API served by Anthropic and by Gemini and its chat stream by Gemini,
// @google/genai served by Anthropic and by OpenAI, and the `ai` SDK's Anthropic provider
// served by OpenAI; a tool call round trip with streamed arguments (Anthropic SDK and
// @google/genai, served by OpenAI) and a base64 image. For each: the SDK's own answer
// shape (whole and streamed), and the served provider alone was called, with its own
// key, the mapped model, and no other key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { PROVIDER_HOSTS, replyText } from './lib/mock-providers.mjs';
import { waitFor } from './lib/wait.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const PASSWORD = 'e2e routed pairs wallet: saffron kettle 7 orbit';
const RUN = Math.random().toString(36).slice(2, 10);
const KEY = {
  openai: `sk-proj-pairs${RUN}${'p'.repeat(40)}`,
  anthropic: `sk-ant-api03-pairs${RUN}${'b'.repeat(60)}AA`,
  gemini: `AIza${RUN}${'g'.repeat(31)}`.slice(0, 39),
};
const prompt = (tag) => `${tag}-${RUN} paired ✓`;

describe('routing: more SDK pairs', () => {
  let h;
  let page;
  let wallet;
  let origin;

  const setRoutes = (routes) => wallet.call('grants.setRoutes', { origin, routes });
  const callsWith = (tag) =>
    Object.entries(PROVIDER_HOSTS).flatMap(([provider, host]) =>
      h.mock.calls(host).filter((r) => r.bodyText?.includes(`${tag}-${RUN}`) || r.path.includes(`${tag}-${RUN}`)).map((r) => ({ provider, ...r })),
    );
  /** Every call carrying `tag` went to `served`, with its key and nobody else's. */
  function assertServedBy(tag, served, { path, model, count = 1 }) {
    const calls = callsWith(tag);
    assert.deepEqual(calls.map((c) => c.provider), Array(count).fill(served), `calls for ${tag}`);
    for (const call of calls) {
      assert.match(call.path, path);
      const seen = JSON.stringify({ h: call.headers, b: call.bodyText });
      assert.ok(seen.includes(KEY[served]), `${served} did not get its own key`);
      for (const [other, key] of Object.entries(KEY)) {
        if (other !== served) assert.ok(!seen.includes(key.slice(-24)), `the ${other} key reached ${served}`);
      }
      if (model) assert.equal(JSON.parse(call.bodyText).model ?? null, model === 'in-path' ? null : model);
    }
  }

  /** The openai SDK's Responses API in the page: `p.resp` whole (with instructions), `p.respStream` streamed. */
  const responsesWholeAndStreamed = (p) =>
    page.evaluate(async (p) => {
      const { OpenAI } = window.SDK;
      const client = new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const resp = await client.responses.create({ model: 'gpt-4o', instructions: 'be brief', input: p.resp });
      let streamed = '';
      let completed = null;
      for await (const e of await client.responses.create({ model: 'gpt-4o', input: p.respStream, stream: true })) {
        if (e.type === 'response.output_text.delta') streamed += e.delta;
        if (e.type === 'response.completed') completed = e.response;
      }
      return { text: resp.output_text, model: resp.model, status: resp.status, usage: resp.usage, streamed, completedStatus: completed?.status };
    }, p);

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    for (const provider of Object.keys(KEY)) {
      await wallet.addCredential({ provider, label: `E2E ${provider}`, secret: KEY[provider] });
    }
    page = await h.browser.context.newPage();
    await page.goto(h.pages.a.url('/sdk.html'), { waitUntil: 'load' });
    await page.waitForFunction(() => document.documentElement.dataset.sdk && window.keyfob);
    await page.evaluate(() => window.SDK_READY);
    origin = h.pages.a.origin;
    const connected = page.evaluate(async () => {
      window.session = await window.keyfob.connect({
        providers: ['anthropic', 'openai', 'gemini'].map((id) => ({ id, required: true })),
      });
    });
    await approveNext(h.browser.context, { providers: ['anthropic', 'openai', 'gemini'], password: PASSWORD });
    await connected;
  });

  after(async () => {
    await h?.teardown();
  });

  test('the Anthropic SDK served by Gemini, whole and streamed', async () => {
    await setRoutes([{ from: 'anthropic', to: 'gemini', models: [{ pattern: 'claude-*', model: 'gemini-2.5-flash' }] }]);
    const p = { create: prompt('an-gm-create'), stream: prompt('an-gm-stream') };
    const out = await page.evaluate(async (p) => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'be brief', messages: [{ role: 'user', content: p.create }] });
      const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: p.stream }] });
      let deltas = '';
      stream.on('text', (t) => {
        deltas += t;
      });
      const final = await stream.finalMessage();
      return { create: msg.content[0]?.text, model: msg.model, stop: msg.stop_reason, usage: msg.usage, deltas, finalStop: final.stop_reason };
    }, p);
    assert.equal(out.create, replyText(p.create));
    assert.equal(out.model, 'claude-sonnet-4-5');
    assert.equal(out.stop, 'end_turn');
    assert.ok(out.usage.input_tokens > 0 && out.usage.output_tokens > 0, JSON.stringify(out.usage));
    assert.equal(out.deltas, replyText(p.stream));
    assert.equal(out.finalStop, 'end_turn');
    assertServedBy('an-gm-create', 'gemini', { path: /^\/v1beta\/models\/gemini-2\.5-flash:generateContent$/ });
    assertServedBy('an-gm-stream', 'gemini', { path: /^\/v1beta\/models\/gemini-2\.5-flash:streamGenerateContent$/ });
    const body = JSON.parse(callsWith('an-gm-create')[0].bodyText);
    assert.equal(body.systemInstruction?.parts?.[0]?.text, 'be brief', 'the system prompt became Gemini\'s systemInstruction');
  });

  test('the Anthropic SDK served by OpenAI Responses (a route via that API), whole and streamed', async () => {
    await setRoutes([{ from: 'anthropic', to: 'openai', via: 'open_ai_responses', models: [{ pattern: 'claude-*', model: 'gpt-4o-mini' }] }]);
    const p = { create: prompt('an-resp-create'), stream: prompt('an-resp-stream') };
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
      return { create: msg.content[0]?.text, stop: msg.stop_reason, usage: msg.usage, deltas, finalStop: final.stop_reason, finalTokens: final.usage?.output_tokens };
    }, p);
    assert.equal(out.create, replyText(p.create));
    assert.equal(out.stop, 'end_turn');
    assert.ok(out.usage.output_tokens > 0, JSON.stringify(out.usage));
    assert.equal(out.deltas, replyText(p.stream));
    assert.equal(out.finalStop, 'end_turn');
    assert.ok(out.finalTokens > 0, 'the streamed answer carried usage');
    assertServedBy('an-resp-create', 'openai', { path: /^\/v1\/responses$/, model: 'gpt-4o-mini' });
    assertServedBy('an-resp-stream', 'openai', { path: /^\/v1\/responses$/, model: 'gpt-4o-mini' });
  });

  test('the openai SDK: Responses served by Anthropic, and a chat stream served by Gemini', async () => {
    await setRoutes([{ from: 'openai', to: 'anthropic', models: [{ pattern: 'gpt-*', model: 'claude-haiku-4-5' }] }]);
    const p = { resp: prompt('oa-an-resp'), respStream: prompt('oa-an-resp-stream'), chatStream: prompt('oa-gm-chat') };
    const responses = await responsesWholeAndStreamed(p);
    assert.equal(responses.text, replyText(p.resp));
    assert.equal(responses.status, 'completed');
    assert.ok(responses.usage.output_tokens > 0, JSON.stringify(responses.usage));
    assert.equal(responses.streamed, replyText(p.respStream));
    assert.equal(responses.completedStatus, 'completed');
    assertServedBy('oa-an-resp', 'anthropic', { path: /^\/v1\/messages$/, model: 'claude-haiku-4-5' });
    assertServedBy('oa-an-resp-stream', 'anthropic', { path: /^\/v1\/messages$/, model: 'claude-haiku-4-5' });
    assert.equal(JSON.parse(callsWith('oa-an-resp')[0].bodyText).system, 'be brief', 'instructions became the system prompt');

    await setRoutes([{ from: 'openai', to: 'gemini', models: [{ pattern: 'gpt-*', model: 'gemini-2.5-flash' }] }]);
    const chat = await page.evaluate(async (text) => {
      const { OpenAI } = window.SDK;
      const client = new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch('openai'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      let streamed = '';
      let finish = null;
      let usage = null;
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: text }] });
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      return { streamed, finish, usage };
    }, p.chatStream);
    assert.equal(chat.streamed, replyText(p.chatStream));
    assert.equal(chat.finish, 'stop');
    assert.ok(chat.usage?.completion_tokens > 0, JSON.stringify(chat.usage));
    assertServedBy('oa-gm-chat', 'gemini', { path: /^\/v1beta\/models\/gemini-2\.5-flash:streamGenerateContent$/ });
  });

  test('@google/genai served by Anthropic and by OpenAI, whole and streamed', async () => {
    const run = (p) =>
      page.evaluate(async (p) => {
        const { GoogleGenAI } = window.SDK;
        const client = new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: session.createFetch('gemini') } });
        const one = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: p.one });
        let streamed = '';
        let last = null;
        for await (const chunk of await client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: p.stream })) {
          streamed += chunk.text ?? '';
          last = chunk;
        }
        return { one: one.text, finish: one.candidates?.[0]?.finishReason, usage: one.usageMetadata, streamed, lastFinish: last?.candidates?.[0]?.finishReason };
      }, p);
    const expectGemini = (out, p) => {
      assert.equal(out.one, replyText(p.one));
      assert.equal(out.finish, 'STOP');
      assert.ok(out.usage?.candidatesTokenCount > 0, JSON.stringify(out.usage));
      assert.equal(out.streamed, replyText(p.stream));
      assert.equal(out.lastFinish, 'STOP');
    };

    await setRoutes([{ from: 'gemini', to: 'anthropic', models: [{ pattern: 'gemini-*', model: 'claude-haiku-4-5' }] }]);
    const toAnthropic = { one: prompt('gm-an-one'), stream: prompt('gm-an-stream') };
    expectGemini(await run(toAnthropic), toAnthropic);
    assertServedBy('gm-an-one', 'anthropic', { path: /^\/v1\/messages$/, model: 'claude-haiku-4-5' });
    assertServedBy('gm-an-stream', 'anthropic', { path: /^\/v1\/messages$/, model: 'claude-haiku-4-5' });

    await setRoutes([{ from: 'gemini', to: 'openai', models: [{ pattern: 'gemini-*', model: 'gpt-4o-mini' }] }]);
    const toOpenai = { one: prompt('gm-oa-one'), stream: prompt('gm-oa-stream') };
    expectGemini(await run(toOpenai), toOpenai);
    assertServedBy('gm-oa-one', 'openai', { path: /^\/v1\/chat\/completions$/, model: 'gpt-4o-mini' });
    assertServedBy('gm-oa-stream', 'openai', { path: /^\/v1\/chat\/completions$/, model: 'gpt-4o-mini' });

    // The same app served by OpenAI's Responses API (a route `via` it).
    await setRoutes([{ from: 'gemini', to: 'openai', via: 'open_ai_responses', models: [{ pattern: 'gemini-*', model: 'gpt-4o-mini' }] }]);
    const toResponses = { one: prompt('gm-resp-one'), stream: prompt('gm-resp-stream') };
    expectGemini(await run(toResponses), toResponses);
    assertServedBy('gm-resp-one', 'openai', { path: /^\/v1\/responses$/, model: 'gpt-4o-mini' });
    assertServedBy('gm-resp-stream', 'openai', { path: /^\/v1\/responses$/, model: 'gpt-4o-mini' });
  });

  test('the openai SDK\'s Responses API served by Gemini, whole and streamed', async () => {
    await setRoutes([{ from: 'openai', to: 'gemini', models: [{ pattern: 'gpt-*', model: 'gemini-2.5-flash' }] }]);
    const p = { resp: prompt('oa-gm-resp'), respStream: prompt('oa-gm-resp-stream') };
    const out = await responsesWholeAndStreamed(p);
    assert.equal(out.text, replyText(p.resp));
    assert.equal(out.model, 'gpt-4o', 'the app sees the model it asked for');
    assert.equal(out.status, 'completed');
    assert.ok(out.usage.output_tokens > 0, JSON.stringify(out.usage));
    assert.equal(out.streamed, replyText(p.respStream));
    assert.equal(out.completedStatus, 'completed');
    assertServedBy('oa-gm-resp', 'gemini', { path: /^\/v1beta\/models\/gemini-2\.5-flash:generateContent$/ });
    assertServedBy('oa-gm-resp-stream', 'gemini', { path: /^\/v1beta\/models\/gemini-2\.5-flash:streamGenerateContent$/ });
    const body = JSON.parse(callsWith('oa-gm-resp')[0].bodyText);
    assert.equal(body.systemInstruction?.parts?.[0]?.text, 'be brief', 'instructions became Gemini\'s systemInstruction');
  });

  test('the ai SDK: its Anthropic provider served by OpenAI (generateText and streamText)', async () => {
    await setRoutes([{ from: 'anthropic', to: 'openai', models: [{ pattern: 'claude-*', model: 'gpt-4o-mini' }] }]);
    const p = { text: prompt('ai-an-oa'), stream: prompt('ai-an-oa-stream') };
    const out = await page.evaluate(async (p) => {
      const { ai, createAnthropic } = window.SDK;
      const model = createAnthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic') })('claude-sonnet-4-5');
      const one = await ai.generateText({ model, prompt: p.text, maxRetries: 0 });
      const streamed = ai.streamText({ model, prompt: p.stream, maxRetries: 0 });
      let text = '';
      for await (const t of streamed.textStream) text += t;
      return { one: one.text, finish: one.finishReason, usage: one.usage, text, streamFinish: await streamed.finishReason };
    }, p);
    assert.equal(out.one, replyText(p.text));
    assert.equal(out.finish, 'stop');
    assert.ok((out.usage?.outputTokens ?? out.usage?.completionTokens) > 0, JSON.stringify(out.usage));
    assert.equal(out.text, replyText(p.stream));
    assert.equal(out.streamFinish, 'stop');
    assertServedBy('ai-an-oa', 'openai', { path: /^\/v1\/chat\/completions$/, model: 'gpt-4o-mini' });
    assertServedBy('ai-an-oa-stream', 'openai', { path: /^\/v1\/chat\/completions$/, model: 'gpt-4o-mini' });
  });

  test('a tool call round trip with streamed arguments: the Anthropic SDK and @google/genai, both served by OpenAI', async () => {
    await setRoutes([
      { from: 'anthropic', to: 'openai', models: [{ pattern: 'claude-*', model: 'gpt-4o-mini' }] },
      { from: 'gemini', to: 'openai', models: [{ pattern: 'gemini-*', model: 'gpt-4o-mini' }] },
    ]);
    const p = { an: prompt('tool-an'), gm: prompt('tool-gm') };
    const out = await page.evaluate(async (p) => {
      const { Anthropic, GoogleGenAI } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const tools = [{ name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
      const ask = { role: 'user', content: `call:get_weather ${p.an}` };
      const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: [ask] });
      let jsonDeltas = 0;
      stream.on('inputJson', () => {
        jsonDeltas += 1;
      });
      const first = await stream.finalMessage();
      const use = first.content.find((b) => b.type === 'tool_use');
      const second = await client.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        tools,
        messages: [ask, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21 C' }] }],
      });

      const genai = new GoogleGenAI({ apiKey: session.sessionKey, httpOptions: { fetch: session.createFetch('gemini') } });
      const config = { tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }] };
      const user = { role: 'user', parts: [{ text: `call:get_weather ${p.gm}` }] };
      let call = null;
      let modelTurn = null;
      for await (const chunk of await genai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: [user], config })) {
        call = chunk.functionCalls?.[0] ?? call;
        modelTurn = chunk.candidates?.[0]?.content ?? modelTurn;
      }
      const answer = await genai.models.generateContent({
        model: 'gemini-2.5-flash',
        config,
        contents: [user, { role: 'model', parts: [{ functionCall: call }] }, { role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: { result: 'rainy, 9 C' } } }] }],
      });
      return {
        an: { stop: first.stop_reason, name: use?.name, input: use?.input, id: use?.id, jsonDeltas, final: second.content[0]?.text, finalStop: second.stop_reason },
        gm: { name: call?.name, args: call?.args, final: answer.text },
      };
    }, p);
    assert.equal(out.an.stop, 'tool_use');
    assert.equal(out.an.name, 'get_weather');
    assert.deepEqual(out.an.input, { city: 'Paris' });
    assert.ok(out.an.jsonDeltas >= 2, `the arguments arrived in ${out.an.jsonDeltas} piece(s)`);
    assert.equal(out.an.final, 'tool said: sunny, 21 C');
    assert.equal(out.an.finalStop, 'end_turn');
    assert.equal(out.gm.name, 'get_weather');
    assert.deepEqual(out.gm.args, { city: 'Paris' });
    assert.match(out.gm.final, /^tool said: .*rainy, 9 C/);

    // The second request carried OpenAI's own call id back, on the call and on its result.
    for (const tag of ['tool-an', 'tool-gm']) {
      const calls = callsWith(tag);
      assert.deepEqual(calls.map((c) => c.provider), ['openai', 'openai'], `calls for ${tag}`);
      const [firstBody, secondBody] = calls.map((c) => JSON.parse(c.bodyText));
      assert.equal(firstBody.tools[0].function.name, 'get_weather');
      const assistant = secondBody.messages.find((m) => m.role === 'assistant');
      const result = secondBody.messages.find((m) => m.role === 'tool');
      assert.match(assistant.tool_calls[0].id, /^call_mock\d+$/, JSON.stringify(assistant));
      assert.equal(result.tool_call_id, assistant.tool_calls[0].id);
      assert.equal(assistant.tool_calls[0].function.name, 'get_weather');
    }
  });

  test('an image (base64) from the Anthropic SDK reaches OpenAI as an image_url data URL', async () => {
    await setRoutes([{ from: 'anthropic', to: 'openai', models: [{ pattern: 'claude-*', model: 'gpt-4o-mini' }] }]);
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const text = prompt('image-an');
    const out = await page.evaluate(async ({ png, text }) => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const msg = await client.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text }] }],
      });
      return msg.content[0]?.text;
    }, { png, text });
    assert.equal(out, replyText(text));
    const [call] = callsWith('image-an');
    const parts = JSON.parse(call.bodyText).messages.at(-1).content;
    assert.deepEqual(parts.find((p) => p.type === 'image_url')?.image_url?.url, `data:image/png;base64,${png}`, JSON.stringify(parts));
    assert.equal(parts.find((p) => p.type === 'text')?.text, text);
  });

  test('the audit names each served provider and model', async () => {
    const records = await waitFor(async () => {
      const { records } = await wallet.call('audit.list', { filter: { origin }, limit: 100 });
      return records.length >= 13 && records; // the routed calls above, at least
    }, { message: 'an audit record for every routed call' });
    const pairs = new Set(records.map((r) => `${r.provider}→${r.routed?.provider}:${r.routed?.model}`));
    for (const pair of ['anthropic→gemini:gemini-2.5-flash', 'anthropic→openai:gpt-4o-mini', 'openai→anthropic:claude-haiku-4-5', 'gemini→openai:gpt-4o-mini', 'openai→gemini:gemini-2.5-flash', 'gemini→anthropic:claude-haiku-4-5', 'gemini→openai:gpt-4o-mini', 'anthropic→openai:gpt-4o-mini']) {
      assert.ok(pairs.has(pair), `no audit record ${pair}: ${[...pairs].join(', ')}`);
    }
    assert.ok(records.every((r) => r.status === 200), JSON.stringify(records.map((r) => r.status)));
  });
});

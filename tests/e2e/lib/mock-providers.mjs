// A local HTTPS stand-in for the AI providers, reached by Chromium through
// `--host-resolver-rules=MAP api.openai.com 127.0.0.1:PORT` and `--ignore-certificate-errors`.
//
// It routes on the Host header, speaks each provider's real wire format (JSON and SSE), and
// records every request it receives so a test can prove what arrived upstream: the real key in
// the right header, the exact body bytes, an early close after an abort, or a hit on a host that
// is no provider at all (an attacker's).
//
// Scenario knobs, chosen by the model name (`mock-429`, `gpt-4o-mock-slow`, …), or by the
// `x-mock` request header or `?mock=` query parameter (the extension may strip those two, the
// model name always gets through):
//   429      → 429 with retry-after, x-request-id / request-id, the provider's JSON error body
//   500      → 500 with the provider's JSON error body
//   slow     → SSE, one chunk every 200 ms for 60 s (records closedEarly when the client leaves)
//   redirect → 302 to https://evil.test/steal
//   split    → the normal answer, written a few bytes at a time (splits SSE frames and UTF-8)
//   gzip     → the normal answer, content-encoding: gzip
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants as zlibConstants, createGzip, gzipSync } from 'node:zlib';

const run = promisify(execFile);

export const PROVIDER_HOSTS = Object.freeze({
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
});

/** Hosts that are no provider; tests map them to the mock to catch a leak. */
export const ATTACKER_HOSTS = Object.freeze(['evil.test', 'api.openai.com.evil.test']);

/** Every answer's text ends with this: multi-byte UTF-8, so byte-level splitting bugs show. */
export const REPLY_SUFFIX = ' — ok ✓ 世界 🎉';

/** The deterministic text a provider mock answers to `prompt`. */
export function replyText(prompt) {
  return `Echo: ${prompt}${REPLY_SUFFIX}`;
}

/** The audio bytes `POST /v1/audio/speech` returns: 300 KiB from a seeded xorshift32. */
export function speechBytes(length = 300 * 1024, seed = 0x6b657966) {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export const SPEECH_SHA256 = sha256(speechBytes());

const SLOW_INTERVAL_MS = 200;
const SLOW_DURATION_MS = 60_000;
const MAX_BODY_TEXT = 64 * 1024;
const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-goog-api-key',
  'x-goog-api-client',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'openai-organization',
  'openai-project',
  'openai-beta',
  'x-stainless-arch',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
  'x-stainless-helper-method',
  'x-mock',
  'idempotency-key',
];
const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'request-id',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'openai-processing-ms',
  'openai-version',
  'anthropic-ratelimit-requests-remaining',
  'x-ratelimit-remaining-requests',
  'content-length',
  'content-type',
  'x-mock-route',
];

/**
 * Starts the mock on 127.0.0.1 at a random port.
 * Options: `strictAnthropicCors` — refuse, as the real API does, an Anthropic request that
 * carries an Origin header but not `anthropic-dangerous-direct-browser-access: true`.
 */
export async function startMock(options = {}) {
  const certDir = await mkdtemp(join(tmpdir(), 'keyfob-mock-cert-'));
  const { key, cert } = await makeCertificate(certDir);
  const requests = [];
  const timers = new Set();
  let nextId = 1;

  const server = https.createServer({ key, cert }, (req, res) => {
    const url = new URL(req.url, 'https://mock.invalid');
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const record = {
      id: nextId++,
      host,
      method: req.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      headers: { ...req.headers },
      bodyLength: 0,
      bodySha256: null,
      bodyText: null,
      attacker: !Object.values(PROVIDER_HOSTS).includes(host),
      status: null,
      route: null,
      closedEarly: false,
      finished: false,
      at: Date.now(),
    };
    requests.push(record);
    res.on('finish', () => {
      record.finished = true;
    });
    res.on('close', () => {
      if (!res.writableFinished) record.closedEarly = true;
    });

    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => {
      record.closedEarly = true;
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      record.bodyLength = body.length;
      record.bodySha256 = sha256(body);
      record.bodyText = body.length < MAX_BODY_TEXT ? decodeText(body) : null;
      const ctx = { req, res, url, host, body, record, options, timers };
      try {
        handle(ctx);
      } catch (error) {
        record.route = 'mock-crash';
        send(ctx, 500, { 'content-type': 'text/plain' }, `mock crashed: ${error.stack}`);
      }
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    port: server.address().port,
    requests,
    /** Forget what was recorded so far. */
    clear() {
      requests.length = 0;
    },
    /** The distinct Host values seen, in order of first appearance. */
    hostsSeen() {
      return [...new Set(requests.map((r) => r.host))];
    },
    /** Requests that reached a host that is no provider. */
    attackerHits() {
      return requests.filter((r) => r.attacker);
    },
    /** Requests other than CORS preflights, optionally filtered by host. */
    calls(host) {
      return requests.filter((r) => r.method !== 'OPTIONS' && (!host || r.host === host));
    },
    /** Resolves with the first recorded request matching `predicate` (polls; rejects after `timeout` ms). */
    async waitFor(predicate, { timeout = 10_000 } = {}) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const hit = requests.find(predicate);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error('mock.waitFor: no matching request recorded in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    /** Stops the server, cuts every open connection, removes the certificate. */
    async close() {
      for (const t of timers) {
        clearInterval(t);
        clearTimeout(t);
      }
      timers.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(certDir, { recursive: true, force: true });
    },
  };
}

async function makeCertificate(dir) {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const names = [...Object.values(PROVIDER_HOSTS), ...ATTACKER_HOSTS, 'localhost']
    .map((n) => `DNS:${n}`)
    .concat('IP:127.0.0.1')
    .join(',');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=keyfob-e2e-mock',
    '-addext', `subjectAltName=${names}`,
  ]);
  return { key: await readFile(keyPath), cert: await readFile(certPath) };
}

// ---------------------------------------------------------------------------------------------
// Routing

function handle(ctx) {
  const { req, host, url } = ctx;
  if (req.method === 'OPTIONS') return preflight(ctx);
  if (ctx.record.attacker) {
    ctx.record.route = 'attacker';
    return sendJson(ctx, 200, { stolen: true, host, path: url.pathname });
  }
  if (host === PROVIDER_HOSTS.anthropic && ctx.options.strictAnthropicCors) {
    const origin = req.headers.origin;
    if (origin && req.headers['anthropic-dangerous-direct-browser-access'] !== 'true') {
      ctx.record.route = 'anthropic.cors-refused';
      return providerError(ctx, 'anthropic', 401, 'CORS requests must set the anthropic-dangerous-direct-browser-access header');
    }
  }
  const json = parseJson(ctx.body);
  ctx.json = json;
  ctx.scenario = scenarioOf(ctx, json);
  const provider = Object.keys(PROVIDER_HOSTS).find((p) => PROVIDER_HOSTS[p] === host);
  if (ctx.scenario === 'redirect') {
    ctx.record.route = `${provider}.redirect`;
    return send(ctx, 302, { location: 'https://evil.test/steal' }, '');
  }
  if (ctx.scenario === '429') return providerError(ctx, provider, 429, 'Rate limit reached (mock)');
  if (ctx.scenario === '500') return providerError(ctx, provider, 500, 'Internal server error (mock)');
  if (provider === 'openai') return openai(ctx);
  if (provider === 'anthropic') return anthropic(ctx);
  return gemini(ctx);
}

function scenarioOf(ctx, json) {
  const { req, url } = ctx;
  const fromHeader = req.headers['x-mock'];
  if (fromHeader) return String(fromHeader).toLowerCase();
  const fromQuery = url.searchParams.get('mock');
  if (fromQuery) return fromQuery.toLowerCase();
  const geminiModel = /\/models\/([^/:]+)/.exec(url.pathname)?.[1];
  const model = String(json?.model ?? geminiModel ?? '');
  const m = /mock-(429|500|slow|redirect|split|gzip)/.exec(model);
  return m ? m[1] : null;
}

function preflight(ctx) {
  const { req } = ctx;
  ctx.record.route = 'preflight';
  const requested = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const allowed = [...new Set([...CORS_ALLOWED_HEADERS, ...requested])];
  send(ctx, 204, {
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    'access-control-allow-headers': allowed.join(', '),
    'access-control-max-age': '600',
  }, '');
}

// ---------------------------------------------------------------------------------------------
// OpenAI

function openai(ctx) {
  const { req, url, json } = ctx;
  const path = url.pathname;
  if (req.method === 'GET' && path === '/v1/models') {
    ctx.record.route = 'openai.models';
    return sendJson(ctx, 200, {
      object: 'list',
      data: ['gpt-4o-mini', 'gpt-4o', 'tts-1'].map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'openai' })),
    });
  }
  if (req.method === 'POST' && path === '/v1/chat/completions') return openaiChat(ctx, json ?? {});
  if (req.method === 'POST' && path === '/v1/responses') return openaiResponses(ctx, json ?? {});
  if (req.method === 'POST' && path === '/v1/files') return openaiFiles(ctx);
  if (req.method === 'POST' && path === '/v1/audio/speech') {
    ctx.record.route = 'openai.speech';
    const bytes = speechBytes();
    return send(ctx, 200, { 'content-type': 'audio/mpeg', 'x-request-id': requestId() }, bytes);
  }
  return providerError(ctx, 'openai', 404, `Unknown mock route ${req.method} ${path}`);
}

function openaiUsage(promptText, completionText) {
  const prompt_tokens = tokens(promptText);
  const completion_tokens = tokens(completionText);
  return {
    prompt_tokens,
    completion_tokens,
    total_tokens: prompt_tokens + completion_tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function openaiChat(ctx, body) {
  const model = body.model ?? 'gpt-4o-mini';
  const prompt = lastText(body.messages);
  const text = replyText(prompt);
  const id = `chatcmpl-mock${ctx.record.id}`;
  const created = 1700000000;
  const usage = openaiUsage(prompt, text);
  if (!body.stream) {
    ctx.record.route = 'openai.chat';
    return sendJson(ctx, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    }, { 'x-request-id': requestId() });
  }
  ctx.record.route = 'openai.chat.stream';
  const withUsage = Boolean(body.stream_options?.include_usage);
  const chunk = (delta, finish) => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', service_tier: 'default',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(withUsage ? { usage: null } : {}),
  });
  const data = (o) => `data: ${JSON.stringify(o)}\n\n`;
  const head = data(chunk({ role: 'assistant', content: '', refusal: null }, null));
  const tail = () => {
    let out = data(chunk({}, 'stop'));
    if (withUsage) out += data({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices: [], usage });
    return `${out}data: [DONE]\n\n`;
  };
  return streamSse(ctx, { head, piece: (t) => data(chunk({ content: t }, null)), tail, text });
}

function openaiResponses(ctx, body) {
  const model = body.model ?? 'gpt-4o-mini';
  const prompt = typeof body.input === 'string' ? body.input : lastText(body.input);
  const text = replyText(prompt);
  const id = `resp_mock${ctx.record.id}`;
  const msgId = `msg_mock${ctx.record.id}`;
  const created_at = 1700000000;
  const usage = {
    input_tokens: tokens(prompt),
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: tokens(text),
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: tokens(prompt) + tokens(text),
  };
  const message = (t, status) => ({
    type: 'message', id: msgId, status, role: 'assistant',
    content: t === null ? [] : [{ type: 'output_text', text: t, annotations: [], logprobs: [] }],
  });
  const response = (status, output, u) => ({
    id, object: 'response', created_at, status, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null,
    model, output, parallel_tool_calls: true, previous_response_id: null,
    reasoning: { effort: null, summary: null }, store: body.store ?? true, temperature: 1,
    text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: 1,
    truncation: 'disabled', usage: u, user: null, metadata: {}, service_tier: 'default',
  });
  if (!body.stream) {
    ctx.record.route = 'openai.responses';
    return sendJson(ctx, 200, response('completed', [message(text, 'completed')], usage), { 'x-request-id': requestId() });
  }
  ctx.record.route = 'openai.responses.stream';
  let seq = 0;
  const event = (o) => `event: ${o.type}\ndata: ${JSON.stringify({ ...o, sequence_number: seq++ })}\n\n`;
  const head =
    event({ type: 'response.created', response: response('in_progress', [], null) }) +
    event({ type: 'response.in_progress', response: response('in_progress', [], null) }) +
    event({ type: 'response.output_item.added', output_index: 0, item: message(null, 'in_progress') }) +
    event({ type: 'response.content_part.added', item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
  const piece = (t) => event({ type: 'response.output_text.delta', item_id: msgId, output_index: 0, content_index: 0, delta: t, logprobs: [] });
  const tail = (sent) =>
    event({ type: 'response.output_text.done', item_id: msgId, output_index: 0, content_index: 0, text: sent, logprobs: [] }) +
    event({ type: 'response.content_part.done', item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text: sent, annotations: [], logprobs: [] } }) +
    event({ type: 'response.output_item.done', output_index: 0, item: message(sent, 'completed') }) +
    event({ type: 'response.completed', response: response('completed', [message(sent, 'completed')], usage) });
  return streamSse(ctx, { head, piece, tail, text });
}

function openaiFiles(ctx) {
  ctx.record.route = 'openai.files';
  const type = String(ctx.req.headers['content-type'] ?? '');
  const parts = parseMultipart(ctx.body, type);
  if (!parts) return providerError(ctx, 'openai', 400, 'expected multipart/form-data with a boundary');
  const file = parts.find((p) => p.name === 'file');
  if (!file) return providerError(ctx, 'openai', 400, "multipart body has no 'file' part");
  const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8') ?? null;
  ctx.record.upload = { filename: file.filename, bytes: file.data.length, sha256: sha256(file.data), purpose };
  return sendJson(ctx, 200, {
    id: `file-mock${ctx.record.id}`,
    object: 'file',
    bytes: file.data.length,
    created_at: 1700000000,
    expires_at: null,
    filename: file.filename ?? 'upload',
    purpose: purpose ?? 'user_data',
    status: 'processed',
    status_details: null,
    sha256: sha256(file.data),
    content_type: file.contentType,
  }, { 'x-request-id': requestId() });
}

// ---------------------------------------------------------------------------------------------
// Anthropic

function anthropic(ctx) {
  const { req, url, json } = ctx;
  const path = url.pathname;
  if (req.method === 'GET' && path === '/v1/models') {
    ctx.record.route = 'anthropic.models';
    const data = ['claude-sonnet-4-5', 'claude-haiku-4-5'].map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' }));
    return sendJson(ctx, 200, { data, has_more: false, first_id: data[0].id, last_id: data.at(-1).id }, { 'request-id': requestId('req_') });
  }
  if (req.method === 'POST' && path === '/v1/messages') return anthropicMessages(ctx, json ?? {});
  return providerError(ctx, 'anthropic', 404, `Unknown mock route ${req.method} ${path}`);
}

function anthropicMessages(ctx, body) {
  const model = body.model ?? 'claude-sonnet-4-5';
  const prompt = lastText(body.messages);
  const text = replyText(prompt);
  const id = `msg_mock${ctx.record.id}`;
  const usage = { input_tokens: tokens(prompt), output_tokens: tokens(text), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (!body.stream) {
    ctx.record.route = 'anthropic.messages';
    return sendJson(ctx, 200, {
      id, type: 'message', role: 'assistant', model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn', stop_sequence: null, usage,
    }, { 'request-id': requestId('req_') });
  }
  ctx.record.route = 'anthropic.messages.stream';
  const event = (o) => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;
  const head =
    event({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }) +
    event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    event({ type: 'ping' });
  const piece = (t) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } });
  const tail = () =>
    event({ type: 'content_block_stop', index: 0 }) +
    event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }) +
    event({ type: 'message_stop' });
  return streamSse(ctx, { head, piece, tail, text, headers: { 'request-id': requestId('req_') } });
}

// ---------------------------------------------------------------------------------------------
// Gemini

function gemini(ctx) {
  const { req, url, json } = ctx;
  const m = /^\/(v1beta|v1)\/models(?:\/([^/:]+)(?::([A-Za-z]+))?)?$/.exec(url.pathname);
  if (!m) return providerError(ctx, 'gemini', 404, `Unknown mock route ${req.method} ${url.pathname}`);
  const [, version, model, method] = m;
  if (req.method === 'GET' && !model) {
    ctx.record.route = `gemini.${version}.models`;
    return sendJson(ctx, 200, {
      models: ['gemini-2.5-flash', 'gemini-2.5-pro'].map((id) => ({
        name: `models/${id}`, version: '001', displayName: id, inputTokenLimit: 1048576, outputTokenLimit: 65536,
        supportedGenerationMethods: ['generateContent', 'countTokens'],
      })),
    });
  }
  if (req.method !== 'POST' || (method !== 'generateContent' && method !== 'streamGenerateContent')) {
    return providerError(ctx, 'gemini', 404, `Unknown mock route ${req.method} ${url.pathname}`);
  }
  const body = json ?? {};
  const prompt = geminiPrompt(body.contents);
  const text = replyText(prompt);
  const usageMetadata = {
    promptTokenCount: tokens(prompt),
    candidatesTokenCount: tokens(text),
    totalTokenCount: tokens(prompt) + tokens(text),
  };
  const responseId = `mockresp${ctx.record.id}`;
  const chunk = (t, finish) => ({
    candidates: [{ content: { parts: [{ text: t }], role: 'model' }, ...(finish ? { finishReason: 'STOP' } : {}), index: 0 }],
    usageMetadata: finish ? usageMetadata : { promptTokenCount: usageMetadata.promptTokenCount, totalTokenCount: usageMetadata.promptTokenCount },
    modelVersion: model,
    responseId,
  });
  if (method === 'generateContent') {
    ctx.record.route = `gemini.${version}.generate`;
    return sendJson(ctx, 200, chunk(text, true));
  }
  if (url.searchParams.get('alt') !== 'sse') {
    // Without alt=sse the stream is one JSON array of the chunks.
    ctx.record.route = `gemini.${version}.stream.json`;
    const pieces = splitText(text);
    return sendJson(ctx, 200, pieces.map((t, i) => chunk(t, i === pieces.length - 1)));
  }
  ctx.record.route = `gemini.${version}.stream`;
  const data = (o) => `data: ${JSON.stringify(o)}\r\n\r\n`;
  // The last piece carries finishReason and the full usage.
  return streamSse(ctx, {
    head: '',
    piece: (t, last) => data(chunk(t, last)),
    tail: () => '',
    text,
    slowPiece: (t) => data(chunk(t, false)),
    slowTail: () => data(chunk('', true)),
  });
}

function geminiPrompt(contents) {
  if (typeof contents === 'string') return contents;
  const list = Array.isArray(contents) ? contents : contents ? [contents] : [];
  const last = list.at(-1);
  if (typeof last === 'string') return last;
  return (last?.parts ?? []).map((p) => p.text ?? '').join('');
}

// ---------------------------------------------------------------------------------------------
// Errors in each provider's own format

function providerError(ctx, provider, status, message) {
  ctx.record.route ??= `${provider}.error.${status}`;
  const headers = {};
  if (status === 429) {
    headers['retry-after'] = '0';
    headers['retry-after-ms'] = '10';
  }
  if (provider === 'anthropic') {
    const rid = requestId('req_');
    headers['request-id'] = rid;
    const type = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 429: 'rate_limit_error', 500: 'api_error' }[status] ?? 'api_error';
    return sendJson(ctx, status, { type: 'error', error: { type, message }, request_id: rid }, headers);
  }
  if (provider === 'gemini') {
    const s = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL' }[status] ?? 'UNKNOWN';
    return sendJson(ctx, status, { error: { code: status, message, status: s } }, headers);
  }
  headers['x-request-id'] = requestId();
  const [type, code] = {
    400: ['invalid_request_error', null],
    404: ['invalid_request_error', 'unknown_url'],
    429: ['requests', 'rate_limit_exceeded'],
    500: ['server_error', null],
  }[status] ?? ['server_error', null];
  return sendJson(ctx, status, { error: { message, type, param: null, code } }, headers);
}

// ---------------------------------------------------------------------------------------------
// Writing responses

function corsHeaders(req) {
  return {
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    vary: 'Origin',
  };
}

function send(ctx, status, headers, body) {
  const { req, res, record, scenario, timers } = ctx;
  if (scenario === 'slow' && !ctx.delayed && status !== 204) {
    // A non-streaming answer under `slow` holds back even the status line for 60 s.
    ctx.delayed = true;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) send(ctx, status, headers, body);
    }, SLOW_DURATION_MS);
    timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
    return;
  }
  record.status = status;
  let payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out = { ...corsHeaders(req), 'x-mock-route': record.route ?? 'unknown', ...headers };
  if (scenario === 'gzip' && payload.length > 0) {
    payload = gzipSync(payload);
    out['content-encoding'] = 'gzip';
  }
  out['content-length'] = String(payload.length);
  res.writeHead(status, out);
  if (scenario === 'split') return writeSplit(ctx, payload, () => res.end());
  res.end(payload);
}

function sendJson(ctx, status, value, headers = {}) {
  send(ctx, status, { 'content-type': 'application/json', ...headers }, JSON.stringify(value));
}

/**
 * Streams an SSE answer: `head`, then `piece(t)` for each piece of `text`, then `tail(text)`.
 * Under the `slow` scenario the pieces are ticks every 200 ms for 60 s instead.
 */
function streamSse(ctx, { head, piece, tail, text, headers = {}, slowPiece, slowTail }) {
  const { req, res, record, scenario, timers } = ctx;
  record.status = 200;
  res.writeHead(200, {
    ...corsHeaders(req),
    'x-mock-route': record.route,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId(),
    ...(scenario === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    ...headers,
  });
  // Under `gzip` the events are compressed and flushed one by one, so it is still a stream.
  const gzip = scenario === 'gzip' ? createGzip() : null;
  if (gzip) gzip.pipe(res);
  const out = gzip ?? res;
  const emit = (s) => {
    out.write(s);
    if (gzip) gzip.flush(zlibConstants.Z_SYNC_FLUSH);
  };
  if (scenario === 'slow') {
    if (head) emit(head);
    let n = 0;
    let sent = '';
    const ticks = SLOW_DURATION_MS / SLOW_INTERVAL_MS;
    const timer = setInterval(() => {
      if (res.destroyed || out.writableEnded) {
        clearInterval(timer);
        timers.delete(timer);
        return;
      }
      n += 1;
      const t = `tick ${n} `;
      sent += t;
      emit((slowPiece ?? piece)(t, false));
      if (n >= ticks) {
        clearInterval(timer);
        timers.delete(timer);
        out.end((slowTail ?? tail)(sent));
      }
    }, SLOW_INTERVAL_MS);
    timers.add(timer);
    return;
  }
  const pieces = splitText(text);
  const whole = head + pieces.map((t, i) => piece(t, i === pieces.length - 1)).join('') + tail(text);
  if (scenario === 'split') return writeSplit(ctx, Buffer.from(whole, 'utf8'), () => res.end());
  // One write per SSE event, so a client sees several chunks, as from a real provider.
  for (const e of whole.split(/(?<=\n\n|\r\n\r\n)/)) if (e) emit(e);
  out.end();
}

/** Writes `buf` 5 bytes at a time with a pause between, so frames and UTF-8 sequences split. */
function writeSplit(ctx, buf, done) {
  const { res, timers } = ctx;
  let offset = 0;
  const timer = setInterval(() => {
    if (res.destroyed) {
      clearInterval(timer);
      timers.delete(timer);
      return;
    }
    res.write(buf.subarray(offset, offset + 5));
    offset += 5;
    if (offset >= buf.length) {
      clearInterval(timer);
      timers.delete(timer);
      done();
    }
  }, 2);
  timers.add(timer);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Splits text into pieces of about 8 characters (by code point, never inside a character). */
function splitText(text) {
  const chars = [...text];
  const out = [];
  for (let i = 0; i < chars.length; i += 8) out.push(chars.slice(i, i + 8).join(''));
  return out.length ? out : [''];
}

function lastText(messages) {
  if (!Array.isArray(messages)) return '';
  const last = [...messages].reverse().find((m) => m && m.role === 'user') ?? messages.at(-1);
  const content = last?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => p.text ?? '').join('');
  return '';
}

function tokens(text) {
  return Math.max(1, Math.ceil(String(text ?? '').length / 4));
}

function parseJson(body) {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

function decodeText(body) {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

let requestCounter = 0;
function requestId(prefix = 'req_mock_') {
  requestCounter += 1;
  return `${prefix}${requestCounter.toString(16).padStart(8, '0')}`;
}

/** Parses a multipart/form-data body into `{name, filename, contentType, data}` parts. */
export function parseMultipart(body, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!/^multipart\/form-data/i.test(contentType) || !m) return null;
  const boundary = Buffer.from(`--${m[1] ?? m[2].trim()}`);
  const parts = [];
  let pos = body.indexOf(boundary);
  while (pos !== -1) {
    let start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    start += 2; // CRLF after the boundary
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd === -1) break;
    const headerText = body.subarray(start, headerEnd).toString('utf8');
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next === -1) break;
    const data = body.subarray(headerEnd + 4, next - 2); // minus the CRLF before the boundary
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headerText)?.[1] ?? '';
    parts.push({
      name: /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      contentType: /content-type:\s*([^\r\n]*)/i.exec(headerText)?.[1] ?? null,
      data,
    });
    pos = next;
  }
  return parts;
}

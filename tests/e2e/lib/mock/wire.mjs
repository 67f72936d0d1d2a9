// The mock's wire layer: writing responses (JSON, SSE, split, gzip, slow), the providers' error
// bodies, the deterministic answers, and small parsing helpers shared by the provider modules.
import { createHash } from 'node:crypto';
import { constants as zlibConstants, createGzip, gzipSync } from 'node:zlib';

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

export const SLOW_INTERVAL_MS = 200;
export const SLOW_DURATION_MS = 60_000;
export const MAX_BODY_TEXT = 64 * 1024;
export const CORS_ALLOWED_HEADERS = [
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
export const CORS_EXPOSED_HEADERS = [
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
 * What the real APIs put on every answer that names the account behind the key (OpenAI's
 * organisation and project, Anthropic's organisation and workspace). The wallet must drop them
 * before the page sees the answer; the mock sends them on every OpenAI and Anthropic answer.
 */
export const ACCOUNT_HEADERS = {
  'api.openai.com': { 'openai-organization': 'org-mockaccount0000', 'openai-project': 'proj_mockaccount0000' },
  'api.anthropic.com': {
    'anthropic-organization-id': '0b5c1a4e-mock-4acc-8000-000000000000',
    'anthropic-workspace-id': 'wrkspc_mockaccount0000',
  },
};

const accountHeaders = (ctx) => ACCOUNT_HEADERS[ctx.host] ?? {};

// ---------------------------------------------------------------------------------------------
// Errors in each provider's own format

export function providerError(ctx, provider, status, message) {
  ctx.record.route ??= `${provider}.error.${status}`;
  const headers = { 'x-request-id': requestId() };
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

export function corsHeaders(ctx) {
  const { req } = ctx;
  if (ctx.noCors) return {};
  return {
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    vary: 'Origin',
  };
}

export function send(ctx, status, headers, body) {
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
  const out = { ...corsHeaders(ctx), 'x-mock-route': record.route ?? 'unknown', ...accountHeaders(ctx), ...headers };
  if (scenario === 'gzip' && payload.length > 0) {
    payload = gzipSync(payload);
    out['content-encoding'] = 'gzip';
  }
  out['content-length'] = String(payload.length);
  res.writeHead(status, out);
  if (scenario === 'split') return writeSplit(ctx, payload, () => res.end());
  res.end(payload);
}

export function sendJson(ctx, status, value, headers = {}) {
  send(ctx, status, { 'content-type': 'application/json', ...headers }, JSON.stringify(value));
}

/**
 * Streams an SSE answer: `head`, then `piece(t)` for each piece of `text`, then `tail(text)`.
 * Under the `slow` scenario the pieces are ticks every 200 ms for 60 s instead.
 */
export function streamSse(ctx, { head, piece, tail, text, headers = {}, slowPiece, slowTail }) {
  const { req, res, record, scenario, timers } = ctx;
  record.status = 200;
  res.writeHead(200, {
    ...corsHeaders(ctx),
    'x-mock-route': record.route,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId(),
    ...accountHeaders(ctx),
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
export function writeSplit(ctx, buf, done) {
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
export function splitText(text) {
  const chars = [...text];
  const out = [];
  for (let i = 0; i < chars.length; i += 8) out.push(chars.slice(i, i + 8).join(''));
  return out.length ? out : [''];
}

export function lastText(messages) {
  if (!Array.isArray(messages)) return '';
  const last = [...messages].reverse().find((m) => m && m.role === 'user') ?? messages.at(-1);
  const content = last?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => p.text ?? '').join('');
  return '';
}

export function tokens(text) {
  return Math.max(1, Math.ceil(String(text ?? '').length / 4));
}

export function parseJson(body) {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

export function decodeText(body) {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

let requestCounter = 0;
export function requestId(prefix = 'req_mock_') {
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


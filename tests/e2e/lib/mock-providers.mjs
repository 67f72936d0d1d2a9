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
//   bulk     → (OpenAI chat, for benchmarks) an SSE stream of `bulk_bytes` bytes of small events
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { anthropic } from './mock/anthropic.mjs';
import { gemini } from './mock/gemini.mjs';
import { openai } from './mock/openai.mjs';
import { CORS_ALLOWED_HEADERS, MAX_BODY_TEXT, decodeText, parseJson, providerError, send, sendJson, sha256 } from './mock/wire.mjs';

export { REPLY_SUFFIX, SPEECH_SHA256, parseMultipart, replyText, speechBytes } from './mock/wire.mjs';

const run = promisify(execFile);

export const PROVIDER_HOSTS = Object.freeze({
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
});

/** Hosts that are no provider; tests map them to the mock to catch a leak. */
export const ATTACKER_HOSTS = Object.freeze(['evil.test', 'api.openai.com.evil.test']);

/**
 * Starts the mock on 127.0.0.1 at a random port.
 * Options: `strictAnthropicCors` (default true) — refuse with 401, as the real API does, an
 * Anthropic request that carries an Origin header (every browser and extension fetch does)
 * but not `anthropic-dangerous-direct-browser-access: true`.
 */
export async function startMock({ strictAnthropicCors = true, ...rest } = {}) {
  const options = { strictAnthropicCors, ...rest };
  const certDir = await mkdtemp(join(tmpdir(), 'keyfob-mock-cert-'));
  const { key, cert } = await makeCertificate(certDir);
  const requests = [];
  const timers = new Set();
  let nextId = 1;

  // HTTP/2 (as the real providers speak it; an aborted stream is reset at once, where an
  // HTTP/1.1 connection may be drained by Chromium for seconds), HTTP/1.1 for Node clients.
  const server = http2.createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
    const url = new URL(req.url, 'https://mock.invalid');
    const authority = req.headers[':authority'] ?? req.headers.host ?? '';
    const host = authority.replace(/:\d+$/, '').toLowerCase();
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith(':')));
    const record = {
      id: nextId++,
      host,
      method: req.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      headers,
      httpVersion: req.httpVersion,
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
    // On close: did the mock end its answer first, or did the client leave (abort) before?
    // (HTTP/2 compat responses emit 'finish' on any stream close, so 'finish' can't tell.)
    res.on('close', () => {
      record.finished = res.writableEnded;
      if (!res.writableEnded) record.closedEarly = true;
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

  const sockets = new Set();
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
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
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
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
      // As the real API: 401 authentication_error, and no access-control-allow-origin.
      ctx.record.route = 'anthropic.cors-refused';
      ctx.noCors = true;
      return providerError(ctx, 'anthropic', 401, "CORS requests must set 'anthropic-dangerous-direct-browser-access' header");
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
  const m = /mock-(429|500|slow|redirect|split|gzip|bulk)/.exec(model);
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

/**
 * Sends one request straight to the mock from Node, as if to `https://<host><path>`: SNI and
 * Host are `host`, the self-signed certificate is accepted. Resolves with
 * `{status, headers, body: Buffer, text()}`; `onResponse(res, req)` may end the request early.
 */
export function requestMock(port, host, { method = 'GET', path = '/', headers = {}, body, onResponse } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: host,
        rejectUnauthorized: false,
        method,
        path,
        headers: {
          host,
          ...(payload && !Buffer.isBuffer(body) && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...(payload ? { 'content-length': String(payload.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        if (onResponse && onResponse(res, req) === false) {
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.alloc(0), text: () => '' });
          return;
        }
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body: buf, text: () => buf.toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

// Adversarial end-to-end tests: a hostile page (or a hostile script inside a page, or a
// cross-origin frame) attacks the real extension. Every refusal is checked twice: the page
// gets the wallet's typed error (HTTP status + {"error": {code, message, source: "keyfob"}}),
// AND the provider mock recorded nothing for it. The real keys are random per run; the last
// test proves they only ever reached their own provider host, in its auth header.
//
// Order matters: the tests share one browser and build on each other (A connects first, B is
// refused before it connects, then connects; the grant of A is revoked last).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test as nodeTest } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { replyText, requestMock } from './lib/mock-providers.mjs';
import { ACCOUNT_HEADERS } from './lib/mock/wire.mjs';
import { clickThatCloses, approveNext, openWallet, readApproval, rejectNext, waitForApproval } from './lib/wallet.mjs';
import { shiftWorkerClock } from './lib/ui.mjs';
import { expectValue } from './lib/wait.mjs';

const PASSWORD = 'correct horse battery staple';
/** Every test gets a deadline: a promise the extension never settles fails that test, not the run. */
const TEST_TIMEOUT_MS = 90_000;
const test = (name, fn) => nodeTest(name, { timeout: TEST_TIMEOUT_MS }, fn);
const hex = (n) => randomBytes(n).toString('hex');
// Random per run, so a secret found anywhere can only have come from this vault.
const SECRETS = {
  openai: `sk-proj-hostile${hex(18)}`,
  anthropic: `sk-ant-api03-hostile${hex(18)}`,
  gemini: `AIzaHostile${hex(16)}`,
};
const PROVIDER_HOST = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
};
const AUTH_HEADER = {
  openai: (k) => ['authorization', `Bearer ${k}`],
  anthropic: (k) => ['x-api-key', k],
  gemini: (k) => ['x-goog-api-key', k],
};
const OPENAI_CHAT = 'https://api.openai.com/v1/chat/completions';
const OPENAI_MODELS = 'https://api.openai.com/v1/models';
/** A syntactically valid session key that no wallet ever issued. */
const forgedSessionKey = () => `kfs_${randomBytes(32).toString('base64url')}`;

// ---------------------------------------------------------------------------------------------
// In-page helpers (run inside the page; must be self-contained).

/** Calls `window.__kf.createFetch(provider)(url, init)` and describes the outcome as plain data. */
async function fetchVia(target, provider, url, init = {}, { session = '__kf' } = {}) {
  return target.evaluate(
    async ({ provider, url, init, session }) => {
      const s = window[session];
      if (!s) return { kind: 'no-session' };
      try {
        const res = await s.createFetch(provider)(url, init);
        const text = await res.text();
        const headers = {};
        res.headers.forEach((v, k) => {
          headers[k] = v;
        });
        return {
          kind: 'response',
          status: res.status,
          keyfobError: res.headers.get('x-keyfob-error'),
          headers,
          text,
          realResponse: Object.getPrototypeOf(res) === Response.prototype,
        };
      } catch (error) {
        return { kind: 'throw', name: error?.name, message: String(error?.message ?? error), causeCode: error?.cause?.code ?? null };
      }
    },
    { provider, url, init, session },
  );
}

/**
 * A hostile script talking to the content script directly, bypassing the shim: posts
 * `{__keyfob: 1, kind}` with a fresh MessagePort to `window` (or to `window.parent`), then
 * posts `frames` on the port. Frames of the form `{__bodyText: '...'}` become
 * `{t: 'body', chunk: ArrayBuffer}`. Collects what comes back until a terminal frame
 * (`end`/`error`/`fail`, or `replies` control replies), or `waitMs` passes
 * (`settled: false`; a bound on a wait for an answer that must come, not a guess).
 * With `into: 'name'` it returns at once and keeps collecting into `window[name]`
 * (`{settled, frames, text}`), for a test that fences with a later request instead of waiting.
 */
async function rawExchange(target, frames, { kind = 'request', to = 'self', waitMs = 15_000, replies = 1, envelope, into = null } = {}) {
  return target.evaluate(
    async ({ frames, kind, to, waitMs, replies, envelope, into }) => {
      const channel = new MessageChannel();
      const seen = [];
      const decoder = new TextDecoder();
      let text = '';
      let repliesSeen = 0;
      const live = into ? (window[into] = { settled: false, frames: seen, text: '' }) : null;
      const result = new Promise((resolve) => {
        let timer = null;
        const finish = (settled) => {
          clearTimeout(timer);
          channel.port1.onmessage = null;
          if (live) Object.assign(live, { settled, text: text + decoder.decode() });
          resolve({ settled, frames: seen, text: text + decoder.decode() });
        };
        if (!live) timer = setTimeout(() => finish(false), waitMs);
        channel.port1.onmessage = (event) => {
          const f = event.data;
          const t = f && typeof f === 'object' ? f.t : `(${typeof f})`;
          if (t === 'data') {
            text += decoder.decode(new Uint8Array(f.chunk), { stream: true });
            if (live) live.text = text;
            return;
          }
          const rec = { t };
          if (t === 'head') Object.assign(rec, { status: f.status, headers: f.headers });
          if (t === 'error') Object.assign(rec, { status: f.status, body: f.body });
          if (t === 'fail') Object.assign(rec, { code: f.code, message: f.message });
          if (t === 'reply') Object.assign(rec, { id: f.id, ok: f.ok, error: f.error ?? null, value: f.value ?? null });
          if (t === 'event') Object.assign(rec, { name: f.name });
          seen.push(rec);
          if (t === 'reply') repliesSeen += 1;
          if (t === 'end' || t === 'error' || t === 'fail' || (t === 'reply' && repliesSeen >= replies)) finish(true);
        };
      });
      const dest = to === 'parent' ? window.parent : window;
      dest.postMessage(envelope ?? { __keyfob: 1, kind }, to === 'parent' ? '*' : '/', [channel.port2]);
      for (const f of frames) {
        if (f && typeof f === 'object' && typeof f.__bodyText === 'string') {
          const buf = new TextEncoder().encode(f.__bodyText).buffer;
          channel.port1.postMessage({ t: 'body', chunk: buf }, [buf]);
        } else {
          channel.port1.postMessage(f);
        }
      }
      if (live) return { settled: false, frames: [], text: '' };
      return result;
    },
    { frames, kind, to, waitMs, replies, envelope: envelope ?? null, into },
  );
}

/** A request frame as the shim would send it (override any field). */
function reqFrame(fields) {
  return { t: 'req', provider: 'openai', method: 'GET', url: OPENAI_MODELS, headers: [], sessionKey: '', hasBody: false, ...fields };
}

/** A chat-completions init whose prompt is `prompt` (unique per call, found again at the mock). */
function chatInit(prompt, { headers = {}, model = 'gpt-4o-mini' } = {}) {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }] }),
  };
}

// ---------------------------------------------------------------------------------------------
// Node-side assertions.

/** `{status, code, message, source}` from a createFetch result or a raw exchange. */
function walletErrorOf(result) {
  if (result.kind === 'response') {
    let parsed = null;
    try {
      parsed = JSON.parse(result.text);
    } catch {}
    return { status: result.status, header: result.keyfobError, ...(parsed?.error ?? { body: result.text }) };
  }
  if (result.kind === 'throw') return { thrown: result };
  const frame = result.frames?.find((f) => f.t === 'error');
  if (!frame) return { none: true, frames: result.frames, settled: result.settled };
  let parsed = null;
  try {
    parsed = JSON.parse(frame.body);
  } catch {}
  return { status: frame.status, ...(parsed?.error ?? { body: frame.body }) };
}

function assertWalletError(result, status, code, what) {
  const e = walletErrorOf(result);
  const shown = `${what}: ${JSON.stringify(e)}`;
  assert.equal(e.code, code, shown);
  assert.equal(e.status, status, shown);
  assert.equal(e.source, 'keyfob', shown);
  assert.equal(typeof e.message, 'string', shown);
  if (result.kind === 'response') {
    assert.equal(e.header, code, `${what}: x-keyfob-error header`);
    assert.equal(result.realResponse, true, `${what}: a real Response`);
  }
  assertNoSecret(result, what);
}

/** No provider key (or 8 chars of its random tail) in `value`. */
function assertNoSecret(value, what) {
  const text = JSON.stringify(value);
  for (const [provider, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `${what} contains the ${provider} key`);
    const tail = secret.slice(-24);
    for (let i = 0; i + 8 <= tail.length; i += 4) {
      assert.ok(!text.includes(tail.slice(i, i + 8)), `${what} contains part of the ${provider} key`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('hostile pages against the real extension', () => {
  let h;
  let wallet;
  let pageA; // origin A, connected: openai + gemini (not anthropic)
  let pageB; // origin B: refused first, connects later (openai + anthropic)
  let frameHost; // origin A page embedding origin B in an iframe
  let keyA; // A's session key
  let keyB; // B's session key

  const since = () => h.mock.requests.length;
  /** Fails if the mock recorded anything (even a preflight) since `mark`. */
  const assertNothingUpstream = (mark, what) => {
    const extra = h.mock.requests.slice(mark).map((r) => `${r.method} https://${r.host}${r.path}${r.query ? `?${r.query}` : ''}`);
    assert.deepEqual(extra, [], `${what}: the mock must receive nothing`);
  };
  const approvalWindows = () =>
    h.browser.context.pages().filter((p) => !p.isClosed() && p.url().includes('/approve/approve.html'));
  const childFrame = () => frameHost.frames().find((f) => f !== frameHost.mainFrame() && f.url().startsWith(h.pages.b.origin));
  /** A connect that should be refused at once, with the KeyfobError's fields. */
  const backoffOutcome = (target) =>
    target.evaluate(() =>
      window.keyfob.connect({ providers: [{ id: 'openai', required: true }] }).then(
        () => ({ ok: true }),
        (e) => ({ code: e?.code, message: e?.message, retryAfterMs: e?.retryAfterMs, isKeyfobError: e instanceof window.keyfob.KeyfobError }),
      ),
    );
  let clockAhead = 0; // how far the worker's clock has been moved ahead (only ever forward)
  /**
   * After a rejection, `target`'s origin backs off: checks that its next connect is refused with
   * APPROVAL_BACKOFF for at most `expectedMs` and opens no window, then moves the worker's clock
   * past the back-off (rather than waiting it out).
   */
  async function passBackoff(target, expectedMs) {
    const refused = await backoffOutcome(target);
    assert.equal(refused.code, 'APPROVAL_BACKOFF', JSON.stringify(refused));
    assert.ok(refused.retryAfterMs > expectedMs / 2 && refused.retryAfterMs <= expectedMs, JSON.stringify(refused));
    assert.equal(approvalWindows().length, 0, 'a backed-off connect opened a window');
    clockAhead += refused.retryAfterMs + 1_000;
    await shiftWorkerClock(h.browser, clockAhead);
  }

  /** A legit chat call through `target`'s session; returns the mock's record of it. */
  async function legitChat(target, what, { session = '__kf', headers = {} } = {}) {
    const prompt = `legit ${what} ${hex(6)}`;
    const mark = since();
    const res = await fetchVia(target, 'openai', OPENAI_CHAT, chatInit(prompt, { headers }), { session });
    assert.equal(res.kind, 'response', `${what}: ${JSON.stringify(res)}`);
    assert.equal(res.status, 200, `${what}: ${res.text}`);
    assert.equal(JSON.parse(res.text).choices[0].message.content, replyText(prompt), what);
    assertNoSecret(res, what);
    const calls = h.mock.requests.slice(mark).filter((r) => r.method !== 'OPTIONS');
    assert.equal(calls.length, 1, `${what}: exactly one upstream call`);
    assert.equal(calls[0].host, 'api.openai.com');
    assert.ok(calls[0].bodyText.includes(prompt));
    return calls[0];
  }

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    for (const provider of ['openai', 'anthropic', 'gemini']) {
      await wallet.addCredential({ provider, label: `hostile ${provider}`, secret: SECRETS[provider] });
    }
    pageA = await h.newPage('/index.html');
    pageB = await h.newPage('/index.html', h.pages.b);
  });
  after(async () => {
    await h?.teardown();
  });

  // ---- setup ------------------------------------------------------------------------------

  test('setup: origin A connects with openai and gemini (anthropic left unchecked)', async () => {
    const connected = pageA.evaluate(async () => {
      window.__kf = await window.keyfob.connect({ providers: [{ id: 'openai', required: true }, { id: 'gemini' }, { id: 'anthropic' }] });
      return { sessionKey: window.__kf.sessionKey, providers: { ...window.__kf.providers } };
    });
    const shown = await approveNext(h.browser.context, { providers: ['openai', 'gemini'], password: PASSWORD });
    assert.ok(shown.text.includes(h.pages.a.origin), 'the approval window names origin A');
    const session = await connected;
    keyA = session.sessionKey;
    assert.match(keyA, /^kfs_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(session.providers).sort(), ['gemini', 'openai']);
    assertNoSecret(session, 'the session');
    // Baseline, so every refusal below means something: a legit call works and carries the key.
    const record = await legitChat(pageA, 'baseline');
    assert.equal(record.headers.authorization, `Bearer ${SECRETS.openai}`);
  });

  // ---- 1. URL and provider rules -----------------------------------------------------------

  const HOSTILE_URLS = [
    { what: 'another host', url: 'https://evil.test/v1/chat/completions', method: 'POST' },
    { what: 'a look-alike host', url: 'https://api.openai.com.evil.test/v1/chat/completions', method: 'POST' },
    { what: 'userinfo host swap', url: 'https://api.openai.com@evil.test/v1/chat/completions', method: 'POST', userinfo: true },
    { what: 'user:pass userinfo', url: 'https://user:pass@api.openai.com/v1/chat/completions', method: 'POST', userinfo: true },
    { what: 'another port', url: 'https://api.openai.com:8443/v1/chat/completions', method: 'POST' },
    { what: 'plain http', url: 'http://api.openai.com/v1/chat/completions', method: 'POST' },
    { what: 'a trailing-dot host', url: 'https://api.openai.com./v1/models' },
    { what: 'an IP literal', url: 'https://127.0.0.1/v1/models' },
    { what: 'a backslash authority trick', url: 'https://api.openai.com\\@evil.test/v1/models', rawOnly: true },
    { what: 'encoded traversal %2e%2e', url: 'https://api.openai.com/v1/%2e%2e/organization/api_keys' },
    { what: 'dot-dot traversal', url: 'https://api.openai.com/v1/../v1/organization/api_keys' },
    { what: 'encoded slash traversal', url: 'https://api.openai.com/v1/files/%2e%2e%2forganization' },
    { what: 'admin path: api keys', url: 'https://api.openai.com/v1/organization/api_keys' },
    { what: 'admin path: projects', url: 'https://api.openai.com/v1/organization/projects' },
    { what: 'stored completions list', url: 'https://api.openai.com/v1/chat/completions' },
    { what: 'model deletion', url: 'https://api.openai.com/v1/models/gpt-4o', method: 'DELETE' },
    { what: 'a credential in the query (api_key=)', url: 'https://api.openai.com/v1/models?api_key=stolen' },
  ];

  for (const c of HOSTILE_URLS) {
    test(`URL refused — ${c.what}: ${c.url}`, async () => {
      const method = c.method ?? 'GET';
      const init = method === 'POST' ? chatInit(`hostile ${hex(4)}`) : { method };
      let mark = since();
      if (!c.rawOnly) {
        const res = await fetchVia(pageA, 'openai', c.url, init);
        if (c.userinfo) {
          // The drop-in fetch behaves as fetch does: a URL with credentials is a TypeError
          // before anything is sent. The raw frame below proves the worker refuses it too.
          assert.equal(res.kind, 'throw', JSON.stringify(res));
          assert.equal(res.name, 'TypeError', JSON.stringify(res));
        } else {
          assertWalletError(res, 403, 'URL_NOT_ALLOWED', `createFetch ${c.url}`);
        }
        assertNothingUpstream(mark, `createFetch ${c.url}`);
      }
      // The same URL, verbatim, straight to the content script (no Request normalisation).
      mark = since();
      const raw = await rawExchange(pageA, [reqFrame({ url: c.url, method, sessionKey: keyA })]);
      assertWalletError(raw, 403, 'URL_NOT_ALLOWED', `raw frame ${c.url}`);
      assertNothingUpstream(mark, `raw frame ${c.url}`);
      assert.deepEqual(h.mock.attackerHits(), [], 'no attacker host contacted');
    });
  }

  test('Gemini: a key in the query (?key=, ?KEY=, ?k%65y=) is refused with URL_NOT_ALLOWED', async () => {
    const base = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent';
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    };
    for (const q of ['key=stolen', 'alt=sse&KEY=stolen', 'k%65y=stolen']) {
      const mark = since();
      const res = await fetchVia(pageA, 'gemini', `${base}?${q}`, init);
      assertWalletError(res, 403, 'URL_NOT_ALLOWED', `gemini ?${q}`);
      assertNothingUpstream(mark, `gemini ?${q}`);
    }
    // Control: the same call without the query parameter does reach Gemini with the key.
    const mark = since();
    const ok = await fetchVia(pageA, 'gemini', base, init);
    assert.equal(ok.status, 200, ok.text);
    const call = h.mock.requests.slice(mark).find((r) => r.method === 'POST');
    assert.equal(call?.host, 'generativelanguage.googleapis.com');
    assert.equal(call.headers['x-goog-api-key'], SECRETS.gemini);
    assert.equal(call.query, '');
  });

  test("Gemini: Google's system parameters that switch credentials, billing, method or parsing are refused; alt=sse works", async () => {
    const base = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash';
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'system parameters' }] }] }),
    };
    const refused = [
      '$key=AIzaPageOwnKey', // a key of the page's choosing (or its session key) upstream
      '%24key=AIzaPageOwnKey',
      '%24KEY=AIzaPageOwnKey',
      '+%24key+=AIzaPageOwnKey',
      'oauth_token=ya29.page',
      '$access_token=ya29.page',
      '$userProject=someone-elses-project', // bills another project
      'userProject=someone-elses-project',
      '$quotaUser=x',
      '$httpMethod=DELETE', // a POST that becomes a DELETE
      '$ct=text/plain', // Google reads the body as another type than Keyfob did
      '$callback=steal',
      'callback=steal', // JSONP: the answer becomes a script the meter cannot read
      '$fields=candidates', // strips usageMetadata from the answer
      'fields=candidates',
      'alt=proto',
      '$apiVersion=v9',
      '%2524key=AIzaPageOwnKey',
    ];
    for (const q of refused) {
      const mark = since();
      const res = await fetchVia(pageA, 'gemini', `${base}:generateContent?${q}`, init);
      assertWalletError(res, 403, 'URL_NOT_ALLOWED', `gemini ?${q}`);
      assertNothingUpstream(mark, `gemini ?${q}`);
      // The same URL straight to the content script, not normalised by Request.
      const raw = await rawExchange(pageA, [
        reqFrame({ provider: 'gemini', method: 'POST', url: `${base}:generateContent?${q}`, sessionKey: keyA, hasBody: true, headers: [['content-type', 'application/json']] }),
        { __bodyText: init.body },
        { t: 'end' },
      ]);
      assertWalletError(raw, 403, 'URL_NOT_ALLOWED', `raw gemini ?${q}`);
      assertNothingUpstream(mark, `raw gemini ?${q}`);
    }
    // Streaming still works: alt=sse (and $alt=sse, prettyPrint) is response shaping only.
    for (const q of ['alt=sse', '%24alt=sse&prettyPrint=false']) {
      const mark = since();
      const ok = await fetchVia(pageA, 'gemini', `${base}:streamGenerateContent?${q}`, init);
      assert.equal(ok.status, 200, `?${q}: ${ok.text}`);
      assert.ok(ok.text.startsWith('data: '), `?${q}: an SSE stream`);
      const call = h.mock.requests.slice(mark).find((r) => r.method === 'POST');
      assert.equal(call?.host, 'generativelanguage.googleapis.com');
      assert.equal(call.headers['x-goog-api-key'], SECRETS.gemini);
    }
  });

  test('method-override and Google system-parameter headers never reach a provider', async () => {
    const overrides = {
      'X-HTTP-Method-Override': 'DELETE',
      'X-HTTP-Method': 'DELETE',
      'X-Method-Override': 'DELETE',
      'X-Goog-User-Project': 'someone-elses-project',
      'X-Goog-Quota-User': 'x',
      'X-Goog-FieldMask': 'candidates',
      'X-Goog-Api-Version': 'v9',
    };
    const mark = since();
    const res = await fetchVia(pageA, 'gemini', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...overrides },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'override headers' }] }] }),
    });
    assert.equal(res.status, 200, res.text);
    const record = await legitChat(pageA, 'override headers to openai', { headers: overrides });
    const calls = h.mock.requests.slice(mark).filter((r) => r.method === 'POST');
    assert.deepEqual(calls.map((r) => r.host), ['generativelanguage.googleapis.com', 'api.openai.com']);
    assert.equal(calls[1], record);
    for (const call of calls) {
      for (const name of Object.keys(overrides)) {
        assert.equal(call.headers[name.toLowerCase()], undefined, `${call.host}: ${name} was forwarded`);
      }
    }
  });

  test('createFetch("nope") → 404 UNKNOWN_PROVIDER, nothing upstream', async () => {
    const mark = since();
    const res = await fetchVia(pageA, 'nope', OPENAI_CHAT, chatInit('x'));
    assertWalletError(res, 404, 'UNKNOWN_PROVIDER', 'createFetch nope');
    const raw = await rawExchange(pageA, [reqFrame({ provider: '__proto__', sessionKey: keyA })]);
    assertWalletError(raw, 404, 'UNKNOWN_PROVIDER', 'raw provider __proto__');
    assertNothingUpstream(mark, 'unknown provider');
  });

  test('a provider the origin was not granted (anthropic) → 403 PROVIDER_NOT_GRANTED, nothing upstream', async () => {
    const mark = since();
    const res = await fetchVia(pageA, 'anthropic', 'https://api.anthropic.com/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assertWalletError(res, 403, 'PROVIDER_NOT_GRANTED', 'createFetch anthropic');
    assertNothingUpstream(mark, 'provider not granted');
  });

  // ---- 2. Redirects ------------------------------------------------------------------------

  test('a provider 302 to another host → 502 UPSTREAM_UNREACHABLE; evil.test never contacted', async () => {
    const mark = since();
    const prompt = `redirect ${hex(6)}`;
    const res = await fetchVia(pageA, 'openai', OPENAI_CHAT, chatInit(prompt, { model: 'gpt-4o-mock-redirect' }));
    assertWalletError(res, 502, 'UPSTREAM_UNREACHABLE', 'redirect');
    const seen = h.mock.requests.slice(mark).filter((r) => r.method !== 'OPTIONS');
    assert.deepEqual(
      seen.map((r) => [r.host, r.path, r.route]),
      [['api.openai.com', '/v1/chat/completions', 'openai.redirect']],
      'only the provider was asked, and it answered with the redirect',
    );
    assert.deepEqual(h.mock.attackerHits(), [], 'evil.test was never contacted');
    assert.ok(!h.mock.hostsSeen().includes('evil.test'));
  });

  // ---- 3. Page-sent auth -------------------------------------------------------------------

  test('page-sent x-api-key / Authorization / Cookie / org headers never reach the provider; only the real key does', async () => {
    await h.browser.context.addCookies([
      { name: 'ambient', value: `jar-${hex(6)}`, domain: 'api.openai.com', path: '/', secure: true, sameSite: 'None' },
    ]);
    const record = await legitChat(pageA, 'page auth via createFetch', {
      headers: {
        'x-api-key': 'attacker-value',
        Authorization: 'Bearer attacker-value',
        Cookie: 'session=attacker-value', // fetch itself drops Cookie; the raw frame below sends it
        'OpenAI-Organization': 'org-attacker-value',
        'x-goog-api-key': 'attacker-value',
      },
    });
    assert.equal(record.headers.authorization, `Bearer ${SECRETS.openai}`);
    for (const name of ['x-api-key', 'cookie', 'openai-organization', 'x-goog-api-key', 'api-key']) {
      assert.equal(record.headers[name], undefined, `${name} must not be forwarded`);
    }
    assert.ok(!JSON.stringify(record.headers).includes('attacker-value'), JSON.stringify(record.headers));
    assert.ok(!JSON.stringify(record.headers).includes('jar-'), 'the browser cookie jar is not used');

    // Straight to the content script, with headers fetch would never let through.
    const prompt = `raw page auth ${hex(6)}`;
    const mark = since();
    const raw = await rawExchange(pageA, [
      reqFrame({
        method: 'POST',
        url: OPENAI_CHAT,
        sessionKey: keyA,
        hasBody: true,
        headers: [
          ['content-type', 'application/json'],
          ['x-api-key', 'attacker-value'],
          ['Authorization', 'Bearer attacker-value'],
          ['cookie', 'session=attacker-value'],
          ['host', 'evil.test'],
          ['origin', 'https://evil.test'],
          ['proxy-authorization', 'Basic attacker-value'],
          ['x-keyfob-provider', 'attacker-value'],
          ['openai-project', 'proj-attacker-value'],
        ],
      }),
      { __bodyText: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }) },
      { t: 'end' },
    ]);
    assert.equal(raw.frames[0]?.t, 'head', JSON.stringify(raw));
    assert.equal(raw.frames[0].status, 200);
    assert.equal(JSON.parse(raw.text).choices[0].message.content, replyText(prompt));
    const calls = h.mock.requests.slice(mark).filter((r) => r.method !== 'OPTIONS');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].host, 'api.openai.com');
    assert.equal(calls[0].headers.authorization, `Bearer ${SECRETS.openai}`);
    assert.equal(calls[0].headers.cookie, undefined);
    assert.ok(!JSON.stringify(calls[0].headers).includes('attacker-value'), JSON.stringify(calls[0].headers));
    assert.notEqual(calls[0].headers.origin, 'https://evil.test');
    assert.deepEqual(h.mock.attackerHits(), []);
  });

  test('a different session key in a header: the key bound by createFetch wins, the header is dropped', async () => {
    // Documented behaviour: the shim sends the session key it bound to createFetch
    // explicitly; the worker only falls back to an auth header when no explicit key came.
    const forged = forgedSessionKey();
    const record = await legitChat(pageA, 'forged header key', { headers: { Authorization: `Bearer ${forged}` } });
    assert.equal(record.headers.authorization, `Bearer ${SECRETS.openai}`);
    assert.ok(!JSON.stringify(record.headers).includes(forged));

    // Raw: an explicit key that is wrong is refused even when the header holds the right one.
    let mark = since();
    let raw = await rawExchange(pageA, [reqFrame({ sessionKey: forged, headers: [['authorization', `Bearer ${keyA}`]] })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', 'wrong explicit key, right header key');
    // No explicit key: two auth headers that disagree are ambiguous and refused.
    raw = await rawExchange(pageA, [reqFrame({ headers: [['authorization', `Bearer ${keyA}`], ['x-api-key', forged]] })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', 'ambiguous header keys');
    // No key at all from an approved origin.
    raw = await rawExchange(pageA, [reqFrame({})]);
    assertWalletError(raw, 401, 'SESSION_INVALID', 'no key at all');
    assertNothingUpstream(mark, 'bad session keys');

    // No explicit key, the right key in the SDK's auth header: the documented fallback works,
    // and the header's value (the session key) never goes upstream.
    mark = since();
    raw = await rawExchange(pageA, [reqFrame({ headers: [['authorization', `Bearer ${keyA}`]] })]);
    assert.equal(raw.frames[0]?.t, 'head', JSON.stringify(raw));
    assert.equal(raw.frames[0].status, 200);
    const calls = h.mock.requests.slice(mark).filter((r) => r.method !== 'OPTIONS');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].headers.authorization, `Bearer ${SECRETS.openai}`);
    assert.ok(!JSON.stringify(calls[0]).includes(keyA), 'the session key never goes upstream');
  });

  // ---- 4/5. Origin binding: B has no grant yet ---------------------------------------------

  test('unapproved origin B: tryReconnect() is null; raw frames → 403 ORIGIN_NOT_APPROVED, or 401 SESSION_INVALID with A\'s key', async () => {
    assert.equal(await pageB.evaluate(async () => (await window.keyfob.tryReconnect()) === null), true);
    const mark = since();
    let raw = await rawExchange(pageB, [reqFrame({})]);
    assertWalletError(raw, 403, 'ORIGIN_NOT_APPROVED', 'B without a key');
    raw = await rawExchange(pageB, [reqFrame({ sessionKey: keyA })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "B with A's key");
    raw = await rawExchange(pageB, [reqFrame({ headers: [['authorization', `Bearer ${keyA}`]] })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "B with A's key in a header");
    raw = await rawExchange(pageB, [reqFrame({ method: 'POST', url: OPENAI_CHAT, sessionKey: keyA, hasBody: true }), { __bodyText: '{}' }, { t: 'end' }]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "B POST with A's key");
    assertNothingUpstream(mark, 'unapproved origin B');
  });

  test("a cross-origin iframe (B) inside A's page cannot use A's grant", async () => {
    const src = h.pages.b.url('/index.html');
    frameHost = await h.newPage(`/frame.html?src=${encodeURIComponent(src)}`);
    await frameHost.waitForFunction(() => document.getElementById('child') !== null);
    let child;
    for (let i = 0; i < 200 && !(child = childFrame()); i++) await frameHost.waitForTimeout(25);
    assert.ok(child, 'the B iframe is present');
    await child.waitForLoadState('load');
    await child.waitForFunction(() => typeof window.keyfob === 'object');
    assert.equal(await child.evaluate(() => location.origin), h.pages.b.origin);
    // The A frame host itself is A: its grant is live there.
    assert.equal(await frameHost.evaluate(async () => (await window.keyfob.tryReconnect()) !== null), true);
    // The B iframe: no session, whatever it asks.
    assert.equal(await child.evaluate(async () => (await window.keyfob.tryReconnect()) === null), true);

    const mark = since();
    let raw = await rawExchange(child, [reqFrame({ sessionKey: keyA })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "iframe B with A's key");
    raw = await rawExchange(child, [reqFrame({})]);
    assertWalletError(raw, 403, 'ORIGIN_NOT_APPROVED', 'iframe B without a key');
    assertNothingUpstream(mark, "iframe B using A's grant");

    // The iframe posts a request envelope to its parent (A): A's content script must ignore
    // it (its source is not A's own window), else it would run with A's origin. No timer:
    // first A's window has the envelope (a page listener gets the same message event as the
    // content script, in the same dispatch), then a legit request from A's frame host, through
    // the same content script and worker port, goes upstream alone and comes back.
    await frameHost.evaluate(() => {
      window.__fromChild = 0;
      window.addEventListener('message', (event) => {
        if (event.source !== window && event.data?.__keyfob === 1) window.__fromChild += 1;
      });
    });
    await rawExchange(child, [reqFrame({ sessionKey: keyA })], { to: 'parent', into: '__hijack' });
    await frameHost.waitForFunction(() => window.__fromChild === 1);
    await frameHost.evaluate(async () => {
      window.__kf = await window.keyfob.tryReconnect();
    });
    await legitChat(frameHost, 'fence after the iframe hijack attempt');
    const hijack = await child.evaluate(() => window.__hijack);
    assert.deepEqual(hijack.frames, [], `A's content script answered a frame from the B iframe: ${JSON.stringify(hijack)}`);
    assert.equal(
      h.mock.requests.slice(mark).filter((r) => r.method === 'GET' && r.path === '/v1/models').length,
      0,
      'the hijacked GET /v1/models never ran',
    );
  });

  // ---- 5. Approval flows (on origin B) -----------------------------------------------------

  const connectOutcome = (target, providers) =>
    target.evaluate(
      (providers) =>
        window.keyfob.connect({ providers }).then(
          (s) => {
            window.__kf = s;
            return { ok: true, sessionKey: s.sessionKey, providers: Object.keys(s.providers).sort() };
          },
          (e) => ({ ok: false, name: e?.name, code: e?.code, isKeyfobError: e instanceof window.keyfob.KeyfobError }),
        ),
      providers,
    );

  test('a rejected approval → connect rejects with KeyfobError USER_REJECTED, and no grant', async () => {
    const outcome = connectOutcome(pageB, [{ id: 'openai', required: true }]);
    const shown = await rejectNext(h.browser.context, { password: PASSWORD });
    assert.ok(shown.text.includes(h.pages.b.origin));
    const r = await outcome;
    assert.deepEqual(r, { ok: false, name: 'KeyfobError', code: 'USER_REJECTED', isKeyfobError: true });
    assert.ok(!(await wallet.listGrants()).some((g) => JSON.stringify(g).includes(h.pages.b.origin)), 'no grant for B');
    await passBackoff(pageB, 10_000);
  });

  test('closing the approval window → USER_REJECTED', async () => {
    const outcome = connectOutcome(pageB, [{ id: 'openai', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    await win.close();
    const r = await outcome;
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.code, 'USER_REJECTED');
    assert.equal(await pageB.evaluate(async () => (await window.keyfob.tryReconnect()) === null), true);
  });

  test('connecting again right after closing the window → APPROVAL_BACKOFF (429, when to retry), and no window opens', async () => {
    // The previous test closed B's window: B's second rejection in a row, so 20 s.
    const again = await backoffOutcome(pageB);
    assert.equal(again.code, 'APPROVAL_BACKOFF', JSON.stringify(again));
    assert.equal(again.isKeyfobError, true);
    assert.ok(again.retryAfterMs > 10_000 && again.retryAfterMs <= 20_000, JSON.stringify(again));
    assert.match(again.message, /try again in \d+ s/);
    // A page retrying in a loop opens nothing either.
    for (let i = 0; i < 5; i++) assert.equal((await backoffOutcome(pageB)).code, 'APPROVAL_BACKOFF');
    await pageB.waitForTimeout(500); // a window the glue opened anyway would show by now
    assert.equal(approvalWindows().length, 0, 'no approval window for a backed-off origin');
    // Once the back-off has passed (the worker's clock moved on), B may ask again.
    await passBackoff(pageB, 20_000);
  });

  test('a second connect from the same origin while one is pending → APPROVAL_PENDING, one window only', async () => {
    const first = connectOutcome(pageB, [{ id: 'openai', required: true }, { id: 'anthropic' }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win); // shows the choice: the pending record is stored
    const pageB2 = await h.newPage('/index.html', h.pages.b);
    try {
      const second = await connectOutcome(pageB2, [{ id: 'openai', required: true }]);
      assert.deepEqual(second, { ok: false, name: 'KeyfobError', code: 'APPROVAL_PENDING', isKeyfobError: true });
      const again = await connectOutcome(pageB, [{ id: 'gemini' }]);
      assert.equal(again.code, 'APPROVAL_PENDING', JSON.stringify(again));
      assert.equal(approvalWindows().length, 1, 'exactly one approval window');
    } finally {
      await pageB2.close();
    }
    for (const id of ['openai', 'anthropic']) {
      await win.locator(`input[type=checkbox][name=provider][value="${id}"]`).setChecked(true);
    }
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    const r = await first;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.providers, ['anthropic', 'openai']);
    keyB = r.sessionKey;
    assert.notEqual(keyB, keyA);
  });

  test('two connects fired at once from one origin → one window, the other gets APPROVAL_PENDING', async () => {
    await pageB.evaluate(() => {
      window.__race = [];
      for (let i = 0; i < 2; i++) {
        window.keyfob
          .connect({ providers: [{ id: 'mistral', required: true }] })
          .then(() => window.__race.push('ok'), (e) => window.__race.push(e.code));
      }
    });
    await waitForApproval(h.browser.context);
    const settled = await pageB
      .waitForFunction(() => window.__race.length >= 1, null, { timeout: 15_000 })
      .then(() => true, () => false);
    const windows = approvalWindows();
    const shown = [];
    for (const p of windows) shown.push(await p.locator('body').innerText().catch((e) => `(unreadable: ${e.message})`));
    const race = await pageB.evaluate(() => [...window.__race]);
    // Clean up whatever happened, so the next tests start from no pending approval: reject
    // where the window offers it, else close the window (closing is a rejection).
    for (const p of windows) {
      const reject = p.getByRole('button', { name: 'Reject' });
      if (await reject.isVisible().catch(() => false)) await reject.click().catch(() => {});
      else await p.close().catch(() => {});
    }
    const finalRace = await pageB
      .waitForFunction(() => window.__race.length >= 2, null, { timeout: 15_000 })
      .then(() => pageB.evaluate(() => [...window.__race]), () => pageB.evaluate(() => [...window.__race]));
    const diagnosis = `approval windows: ${windows.length} showing ${JSON.stringify(shown)}; first settled: ${JSON.stringify(race)}; after cleanup: ${JSON.stringify(finalRace)}`;
    assert.ok(settled, `neither concurrent connect settled while one approval was pending — ${diagnosis}`);
    assert.equal(windows.length, 1, diagnosis);
    assert.deepEqual(race, ['APPROVAL_PENDING'], diagnosis);
    assert.deepEqual([...finalRace].sort(), ['APPROVAL_PENDING', 'USER_REJECTED'], diagnosis);
  });

  test('approving a required provider the user has no key for → PROVIDER_KEY_MISSING; the old session lives on', async () => {
    const outcome = connectOutcome(pageA, [{ id: 'mistral', required: true }]);
    const shown = await approveNext(h.browser.context, { providers: ['mistral'], password: PASSWORD });
    assert.deepEqual(shown.providers, [{ id: 'mistral', checked: false }], 'offered unchecked: no key stored');
    const r = await outcome;
    assert.deepEqual(r, { ok: false, name: 'KeyfobError', code: 'PROVIDER_KEY_MISSING', isKeyfobError: true });
    // A's earlier session is untouched.
    assert.equal(await pageA.evaluate(() => window.__kf.isConnected()), true);
    await legitChat(pageA, 'after PROVIDER_KEY_MISSING');
    // And a request for that provider is a typed 402 with nothing upstream.
    const mark = since();
    const res = await fetchVia(pageA, 'mistral', 'https://api.mistral.ai/v1/chat/completions', chatInit('x'));
    assertWalletError(res, 402, 'PROVIDER_KEY_MISSING', 'createFetch mistral');
    assertNothingUpstream(mark, 'provider key missing');
  });

  // ---- 4. Origin binding once B has its own grant ------------------------------------------

  test('cross-origin iframes all connecting at once → exactly one approval window, the others APPROVAL_PENDING', async () => {
    // Three origins nested in one tab (localhost and 127.0.0.1 are different origins), each
    // asking for a provider none of them holds, so each one would need a window.
    const local = (server, path) => server.url(path).replace('://127.0.0.1:', '://localhost:');
    const inner = h.pages.a.url('/index.html');
    const middle = local(h.pages.b, `/frame.html?src=${encodeURIComponent(inner)}`);
    const flood = await h.browser.context.newPage();
    try {
      await flood.goto(local(h.pages.a, `/frame.html?src=${encodeURIComponent(middle)}`), { waitUntil: 'load' });
      let frames = [];
      for (let i = 0; i < 200 && (frames = flood.frames()).length < 3; i++) await flood.waitForTimeout(25);
      assert.equal(frames.length, 3, 'three nested frames');
      for (const f of frames) {
        await f.waitForLoadState('load');
        await f.waitForFunction(() => typeof window.keyfob === 'object');
      }
      const origins = await Promise.all(frames.map((f) => f.evaluate(() => location.origin)));
      assert.equal(new Set(origins).size, 3, `three origins: ${origins}`);
      await Promise.all(
        frames.map((f) =>
          f.evaluate(() => {
            window.__flood = 'waiting';
            window.keyfob.connect({ providers: [{ id: 'groq', required: true }] }).then(
              () => (window.__flood = 'connected'),
              (e) => (window.__flood = e.code),
            );
          }),
        ),
      );
      const outcomes = () => Promise.all(frames.map((f) => f.evaluate(() => window.__flood)));
      const win = await waitForApproval(h.browser.context);
      await readApproval(win);
      await expectValue(async () => (await outcomes()).filter((o) => o === 'APPROVAL_PENDING').length, 2, 'two frames are told to wait');
      await flood.waitForTimeout(500); // a second window the glue opened anyway would show by now
      assert.equal(approvalWindows().length, 1, 'exactly one approval window');
      const asked = origins[(await outcomes()).indexOf('waiting')];
      assert.ok(asked, 'one frame waits for the window');
      assert.ok((await win.locator('body').innerText()).includes(asked), 'the window names the frame that waits');
      await win.close();
      await expectValue(async () => (await outcomes()).sort().join(), 'APPROVAL_PENDING,APPROVAL_PENDING,USER_REJECTED', 'the closed window rejects');
      assert.ok(!(await wallet.listGrants()).some((g) => g.providers.includes('groq')), 'no grant for groq');
    } finally {
      await flood.close();
    }
  });

  test("B connected: A's session key replayed from B is refused; B's own createFetch ignores A's key in a header", async () => {
    let mark = since();
    let raw = await rawExchange(pageB, [reqFrame({ sessionKey: keyA })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "B replays A's key");
    raw = await rawExchange(pageB, [reqFrame({ headers: [['authorization', `Bearer ${keyA}`]] })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "B replays A's key in a header");
    // And A cannot use B's key either.
    raw = await rawExchange(pageA, [reqFrame({ sessionKey: keyB })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "A replays B's key");
    // The B iframe inside A's page, now that B has a grant, still cannot use A's key.
    raw = await rawExchange(childFrame(), [reqFrame({ sessionKey: keyA })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', "iframe B replays A's key");
    assertNothingUpstream(mark, 'cross-origin key replay');

    // B's createFetch with A's key in the Authorization header: B's bound key is what counts.
    const record = await legitChat(pageB, "B with A's key in a header", { headers: { Authorization: `Bearer ${keyA}` } });
    assert.equal(record.headers.authorization, `Bearer ${SECRETS.openai}`);
    assert.ok(!JSON.stringify(record).includes(keyA));

    // Anthropic through B: the page's x-api-key is replaced by the real key.
    const prompt = `anthropic ${hex(6)}`;
    mark = since();
    const res = await fetchVia(pageB, 'anthropic', 'https://api.anthropic.com/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'attacker-value', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: prompt }] }),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(JSON.parse(res.text).content[0].text, replyText(prompt));
    const call = h.mock.requests.slice(mark).find((r) => r.method === 'POST');
    assert.equal(call.host, 'api.anthropic.com');
    assert.equal(call.headers['x-api-key'], SECRETS.anthropic);
    assert.ok(!JSON.stringify(call.headers).includes('attacker-value'));
  });

  test("response headers that name the user's account are dropped; request ids, retry and rate-limit headers stay", async () => {
    // The mock (like the real APIs) sends the account headers on every answer: proven from Node.
    const direct = await requestMock(h.mock.port, 'api.openai.com', {
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini-mock-429', messages: [{ role: 'user', content: 'direct' }] },
    });
    assert.equal(direct.status, 429);
    for (const [name, value] of Object.entries(ACCOUNT_HEADERS['api.openai.com'])) assert.equal(direct.headers[name], value, name);

    const pageSees = async (target, provider, url, init, status) => {
      const res = await fetchVia(target, provider, url, init);
      assert.equal(res.kind, 'response', JSON.stringify(res));
      assert.equal(res.status, status, res.text);
      const host = new URL(url).host;
      for (const name of Object.keys(ACCOUNT_HEADERS[host])) {
        assert.equal(res.headers[name], undefined, `${provider} ${status}: the page saw ${name}`);
      }
      for (const value of Object.values(ACCOUNT_HEADERS[host])) {
        assert.ok(!JSON.stringify(res.headers).includes(value), `${provider} ${status}: an account id reached the page`);
      }
      return res.headers;
    };
    // OpenAI, a normal answer and a 429: the SDKs' request id and retry hints pass.
    let headers = await pageSees(pageA, 'openai', OPENAI_CHAT, chatInit(`account ${hex(4)}`), 200);
    assert.match(headers['x-request-id'] ?? '', /\S/, 'x-request-id is kept');
    headers = await pageSees(pageA, 'openai', OPENAI_CHAT, chatInit(`account ${hex(4)}`, { model: 'gpt-4o-mini-mock-429' }), 429);
    assert.equal(headers['retry-after'], '0');
    assert.equal(headers['retry-after-ms'], '10');
    assert.match(headers['x-request-id'] ?? '', /\S/);
    // Streaming answers carry them in the head too.
    headers = await pageSees(pageA, 'openai', OPENAI_CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream' }] }),
    }, 200);
    assert.match(headers['x-request-id'] ?? '', /\S/);
    // Anthropic through B: its organisation and workspace ids are dropped, request-id stays.
    const messages = (model) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'account' }] }),
    });
    headers = await pageSees(pageB, 'anthropic', 'https://api.anthropic.com/v1/messages', messages('claude-haiku-4-5'), 200);
    headers = await pageSees(pageB, 'anthropic', 'https://api.anthropic.com/v1/messages', messages('claude-haiku-4-5-mock-429'), 429);
    assert.match(headers['request-id'] ?? '', /^req_/);
    assert.equal(headers['retry-after'], '0');
  });

  // ---- 5. Locked wallet --------------------------------------------------------------------

  test('locked wallet → 423 WALLET_LOCKED through createFetch and raw frames, nothing upstream; unlock restores', async () => {
    await wallet.lock();
    try {
      const mark = since();
      const res = await fetchVia(pageA, 'openai', OPENAI_CHAT, chatInit(`locked ${hex(4)}`));
      assertWalletError(res, 423, 'WALLET_LOCKED', 'createFetch while locked');
      const raw = await rawExchange(pageB, [reqFrame({ sessionKey: keyB })]);
      assertWalletError(raw, 423, 'WALLET_LOCKED', 'raw while locked');
      assertNothingUpstream(mark, 'locked wallet');
    } finally {
      await wallet.unlock(PASSWORD);
    }
    await legitChat(pageA, 'after unlock');
  });

  // ---- 7. Page pollution -------------------------------------------------------------------

  test('a page that pollutes Object.prototype, JSON, Headers, Response, Request, fetch, postMessage … still gets real Responses', async () => {
    const polluted = await h.newPage('/index.html');
    try {
      const prompt = `polluted ${hex(6)}`;
      const mark = since();
      const out = await polluted.evaluate(async (prompt) => {
        const s = await window.keyfob.tryReconnect();
        if (!s) return { error: 'no session' };
        const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
        const originals = {
          parse: JSON.parse,
          stringify: JSON.stringify,
          Headers: window.Headers,
          Response: window.Response,
          Request: window.Request,
          fetch: window.fetch,
          ReadableStream: window.ReadableStream,
          MessageChannel: window.MessageChannel,
          Uint8Array: window.Uint8Array,
          postMessage: window.postMessage,
          portPost: MessagePort.prototype.postMessage,
          mapGet: Map.prototype.get,
          startsWith: String.prototype.startsWith,
        };
        const protoKeys = ['t', 'then', 'status', 'code', 'chunk', 'ok', 'id', 'value', 'error', 'statusText', 'url', 'done'];
        const hits = { then: 0 };
        const boom = () => {
          throw new Error('polluted');
        };
        for (const k of protoKeys) {
          // A null-prototype descriptor: once `value` is polluted, a plain literal would
          // inherit it and no longer be a valid accessor descriptor.
          const descriptor = Object.create(null);
          descriptor.configurable = true;
          descriptor.get = function get() {
            if (k === 'then') {
              hits.then += 1;
              return undefined;
            }
            return k === 'status' ? 299 : k === 'ok' ? true : k === 't' ? 'error' : k === 'done' ? true : 'pwned';
          };
          Object.defineProperty(Object.prototype, k, descriptor);
        }
        JSON.parse = () => ({ error: { code: 'PWNED' } });
        JSON.stringify = () => '"pwned"';
        window.Headers = boom;
        window.Response = boom;
        window.Request = boom;
        window.fetch = () => Promise.reject(new Error('polluted fetch'));
        window.ReadableStream = boom;
        window.MessageChannel = boom;
        window.Uint8Array = boom;
        window.postMessage = boom;
        MessagePort.prototype.postMessage = boom;
        Map.prototype.get = boom;
        String.prototype.startsWith = boom;
        // If the shim used a polluted global, its promise could never settle: bound the wait.
        const bounded = (promise, what) =>
          Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} never settled`)), 10_000))]);
        try {
          const f = (url, init) => bounded(s.createFetch('openai')(url, init), `createFetch(${url})`);
          const ok = await f('https://api.openai.com/v1/chat/completions', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          const okText = await ok.text();
          const bad = await f('https://evil.test/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const badText = await bad.text();
          return {
            ok: {
              real: Object.getPrototypeOf(ok) === originals.Response.prototype,
              status: ok.status,
              type: ok.headers.get('content-type'),
              text: okText,
            },
            bad: {
              real: Object.getPrototypeOf(bad) === originals.Response.prototype,
              status: bad.status,
              code: bad.headers.get('x-keyfob-error'),
              text: badText,
            },
            thenHits: hits.then,
          };
        } catch (error) {
          return { error: String(error?.stack ?? error) };
        } finally {
          for (const k of protoKeys) delete Object.prototype[k];
          JSON.parse = originals.parse;
          JSON.stringify = originals.stringify;
          Object.assign(window, {
            Headers: originals.Headers,
            Response: originals.Response,
            Request: originals.Request,
            fetch: originals.fetch,
            ReadableStream: originals.ReadableStream,
            MessageChannel: originals.MessageChannel,
            Uint8Array: originals.Uint8Array,
            postMessage: originals.postMessage,
          });
          MessagePort.prototype.postMessage = originals.portPost;
          Map.prototype.get = originals.mapGet;
          String.prototype.startsWith = originals.startsWith;
        }
      }, prompt);
      assert.equal(out.error, undefined, out.error);
      assert.equal(out.ok.real, true, 'a real (native) Response');
      assert.equal(out.ok.status, 200);
      assert.match(out.ok.type ?? '', /application\/json/);
      assert.equal(JSON.parse(out.ok.text).choices[0].message.content, replyText(prompt));
      assert.equal(out.bad.real, true);
      assert.equal(out.bad.status, 403);
      assert.equal(out.bad.code, 'URL_NOT_ALLOWED');
      assert.equal(JSON.parse(out.bad.text).error.code, 'URL_NOT_ALLOWED');
      const calls = h.mock.requests.slice(mark).filter((r) => r.method !== 'OPTIONS');
      assert.equal(calls.length, 1, 'only the legit call went upstream');
      assert.ok(calls[0].bodyText.includes(prompt));
      assert.equal(calls[0].headers.authorization, `Bearer ${SECRETS.openai}`);
      assertNoSecret(out, 'polluted page');
    } finally {
      await polluted.close();
    }
  });

  // ---- 8. Hostile frame shapes -------------------------------------------------------------

  test('garbage envelopes and port frames: nothing upstream, no reply that is not an error, nothing crashes', async () => {
    const mark = since();
    // Window-level garbage (no port, two ports, wrong marker, unknown kind).
    await pageA.evaluate(() => {
      const port = () => new MessageChannel().port2;
      const shapes = [
        ['string', []],
        [null, []],
        [42, []],
        [{ __keyfob: 1, kind: 'request' }, []],
        [{ __keyfob: 1, kind: 'request' }, [port(), port()]],
        [{ __keyfob: '1', kind: 'request' }, [port()]],
        [{ __keyfob: 1, kind: 'bogus' }, [port()]],
        [{ __keyfob: 1, kind: { toString: null } }, [port()]],
        [[1, 2, 3], [port()]],
      ];
      for (const [data, ports] of shapes) {
        try {
          window.postMessage(data, '/', ports);
        } catch {}
      }
    });
    // Port-level garbage on request ports.
    const garbage = [
      [null],
      ['req'],
      [42],
      [[]],
      [{}],
      [{ t: 5 }],
      [{ t: 'req', headers: [null] }],
      [{ t: 'req', headers: [5] }],
      [{ t: 'req', headers: [[null, null]], sessionKey: keyA, url: 12 }],
      [{ t: 'body', chunk: 'not a buffer' }, { t: 'end' }],
      [{ __bodyText: 'a body before any req' }, { t: 'end' }],
      [{ t: 'end' }, { t: 'abort' }],
      [{ t: 'ping' }],
      // hasBody, then the page goes away before `end`: the worker must not send a half body.
      [reqFrame({ method: 'POST', url: OPENAI_CHAT, sessionKey: keyA, hasBody: true, headers: [['content-type', 'application/json']] }), { __bodyText: '{"model":"gpt-4o-mini","messages":[' }, { t: 'abort' }],
    ];
    // Each exchange keeps collecting what comes back; the fence below (a legit request through
    // the same content script and worker port, after all of them) marks when to look.
    for (const [i, frames] of garbage.entries()) {
      await rawExchange(pageA, frames, { into: `__garbage${i}` });
    }
    // Fence: a legit request through the same content script after all of it.
    await legitChat(pageA, 'fence after garbage');
    const outcomes = await pageA.evaluate((n) => Array.from({ length: n }, (_, i) => window[`__garbage${i}`]), garbage.length);
    for (const [i, o] of outcomes.entries()) {
      const ts = o.frames.map((f) => f.t);
      assert.ok(!ts.includes('head') && !ts.includes('data'), `garbage #${i} ${JSON.stringify(garbage[i])} got a provider answer: ${JSON.stringify(o)}`);
      for (const f of o.frames.filter((x) => x.t === 'error')) {
        const e = JSON.parse(f.body).error;
        assert.equal(e.source, 'keyfob');
        assert.ok(f.status >= 400 && f.status < 500, `garbage #${i}: ${f.status} ${e.code}`);
      }
    }
    const stray = h.mock.requests.slice(mark).filter((r) => !(r.method === 'POST' && r.bodyText?.includes('fence after garbage')));
    assert.deepEqual(stray.map((r) => `${r.method} ${r.host}${r.path}`), [], 'garbage reached the mock');
  });

  test('a replayed req frame on one exchange is ignored: one upstream call, one answer', async () => {
    const mark = since();
    const marker = `replay-${hex(6)}`;
    const raw = await rawExchange(pageA, [
      reqFrame({ sessionKey: keyA, url: `${OPENAI_MODELS}?marker=${marker}` }),
      reqFrame({ sessionKey: keyA, url: `${OPENAI_MODELS}?marker=${marker}` }),
      reqFrame({ sessionKey: keyA, url: 'https://evil.test/v1/models' }),
    ]);
    assert.equal(raw.frames[0]?.t, 'head', JSON.stringify(raw));
    assert.equal(raw.frames[0].status, 200);
    await legitChat(pageA, 'fence after the replayed req');
    const replays = h.mock.requests.slice(mark).filter((r) => r.query.includes(marker));
    assert.equal(replays.length, 1, 'the second req on the same exchange must not run');
    assert.deepEqual(h.mock.attackerHits(), []);
  });

  test('non-string fields, huge header arrays and header injection → typed 4xx errors, nothing upstream', async () => {
    const huge = Array.from({ length: 5000 }, (_, i) => [`x-h${i}`, `v${i}`]);
    const cases = [
      { what: 'numeric provider', frame: reqFrame({ provider: 123, sessionKey: keyA }), status: 404, code: 'UNKNOWN_PROVIDER' },
      { what: 'null provider', frame: reqFrame({ provider: null, sessionKey: keyA }), status: 404, code: 'UNKNOWN_PROVIDER' },
      { what: 'object url', frame: reqFrame({ url: { href: OPENAI_MODELS }, sessionKey: keyA }), status: 403, code: 'URL_NOT_ALLOWED' },
      { what: 'numeric url', frame: reqFrame({ url: 12345, sessionKey: keyA }), status: 403, code: 'URL_NOT_ALLOWED' },
      { what: 'a URL of 20 000 characters', frame: reqFrame({ url: `${OPENAI_MODELS}/${'a'.repeat(20_000)}`, sessionKey: keyA }), status: 403, code: 'URL_NOT_ALLOWED' },
      { what: 'null method', frame: reqFrame({ method: null, sessionKey: keyA }), status: 400, code: 'BAD_REQUEST' },
      { what: 'PUT', frame: reqFrame({ method: 'PUT', sessionKey: keyA }), status: 400, code: 'BAD_REQUEST' },
      { what: 'numeric session key', frame: reqFrame({ sessionKey: 42 }), status: 401, code: 'SESSION_INVALID' },
      { what: 'object session key', frame: reqFrame({ sessionKey: { k: keyA } }), status: 401, code: 'SESSION_INVALID' },
      { what: '5000 headers', frame: reqFrame({ sessionKey: keyA, headers: huge }), status: 400, code: 'BAD_REQUEST' },
      { what: 'a 1 MiB header value', frame: reqFrame({ sessionKey: keyA, headers: [['accept', 'a'.repeat(1 << 20)]] }), status: 400, code: 'BAD_REQUEST' },
      { what: 'CRLF header injection', frame: reqFrame({ sessionKey: keyA, headers: [['accept', 'application/json\r\nx-api-key: evil']] }), status: 400, code: 'BAD_REQUEST' },
      { what: 'an invalid header name', frame: reqFrame({ sessionKey: keyA, headers: [['bad name', 'x']] }), status: 400, code: 'BAD_REQUEST' },
      { what: 'object header names', frame: reqFrame({ sessionKey: keyA, headers: [[{}, []]] }), status: 400, code: 'BAD_REQUEST' },
    ];
    for (const c of cases) {
      const mark = since();
      const raw = await rawExchange(pageA, [c.frame]);
      assertWalletError(raw, c.status, c.code, c.what);
      assertNothingUpstream(mark, c.what);
    }
  });

  test('garbage on the control channel: typed replies, no approval window, no crash', async () => {
    const before = approvalWindows().length;
    const frames = [
      { t: 'connect', id: 'x' }, // no numeric id: dropped by the content script
      { t: 'connect', id: 2 ** 40 }, // not a u32: dropped by the worker
      { t: 'connect', id: 1, providers: 'nope' },
      { t: 'connect', id: 2, providers: Array.from({ length: 32 }, () => ({ id: 'openai', required: true })) },
      { t: 'connect', id: 3, providers: [{ id: 'nope', required: true }] },
      { t: 'connect', id: 4, providers: [{ id: { not: 'a string' } }] },
      { t: 'frobnicate', id: 5 },
      { t: 'reconnect', id: 6 },
    ];
    const out = await rawExchange(pageA, frames, { kind: 'control', replies: 6 });
    assert.equal(out.settled, true, JSON.stringify(out));
    const byId = Object.fromEntries(out.frames.filter((f) => f.t === 'reply').map((f) => [f.id, f]));
    assert.deepEqual(Object.keys(byId).map(Number).sort(), [1, 2, 3, 4, 5, 6]);
    assert.equal(byId[1].error?.code, 'BAD_REQUEST');
    assert.equal(byId[2].error?.code, 'BAD_REQUEST');
    assert.equal(byId[3].error?.code, 'UNKNOWN_PROVIDER');
    assert.equal(byId[4].error?.code, 'UNKNOWN_PROVIDER');
    assert.equal(byId[5].error?.code, 'BAD_REQUEST');
    assert.equal(byId[6].ok, true);
    assert.equal(byId[6].value?.sessionKey, keyA, 'reconnect on A gives back A');
    assert.equal(approvalWindows().length, before, 'no approval window opened');
    // Still alive: the worker runs and a legit call works.
    assert.equal(await h.browser.serviceWorkerStatus(), 'running');
    await legitChat(pageA, 'after control garbage');
  });

  // ---- 6. Revocation -----------------------------------------------------------------------

  test("revoking A: A's onDisconnect fires, isConnected() is false, the next call is 401 SESSION_INVALID; B is untouched", async () => {
    await pageA.evaluate(() => {
      window.__disc = [];
      window.__kf.onDisconnect((d) => window.__disc.push(d ?? null));
    });
    await pageB.evaluate(() => {
      window.__disc = [];
      window.__kf.onDisconnect((d) => window.__disc.push(d ?? null));
    });
    assert.equal(await pageA.evaluate(() => window.__kf.isConnected()), true);
    assert.equal(await pageB.evaluate(() => window.__kf.isConnected()), true);

    await wallet.revokeGrant(h.pages.a.origin);
    await pageA.waitForFunction(() => window.__disc.length > 0, null, { timeout: 15_000 });
    assert.equal(await pageA.evaluate(() => window.__kf.isConnected()), false);

    const mark = since();
    const res = await fetchVia(pageA, 'openai', OPENAI_CHAT, chatInit(`after revoke ${hex(4)}`));
    assertWalletError(res, 401, 'SESSION_INVALID', 'createFetch after revoke');
    let raw = await rawExchange(pageA, [reqFrame({ sessionKey: keyA })]);
    assertWalletError(raw, 401, 'SESSION_INVALID', 'raw with the revoked key');
    raw = await rawExchange(pageA, [reqFrame({})]);
    assertWalletError(raw, 403, 'ORIGIN_NOT_APPROVED', 'raw without a key after revoke');
    assert.equal(await pageA.evaluate(async () => (await window.keyfob.tryReconnect()) === null), true);
    assertNothingUpstream(mark, 'revoked origin');

    // B: a control round trip on B's own port (FIFO) proves any event for B would have arrived.
    await pageB.evaluate(() => window.__kf.getUsage().catch(() => null));
    assert.deepEqual(await pageB.evaluate(() => window.__disc), [], 'B must not be told of A\'s revocation');
    assert.equal(await pageB.evaluate(() => window.__kf.isConnected()), true);
    await legitChat(pageB, 'B after A was revoked');
  });

  // ---- the keys went only where they belong --------------------------------------------------

  test('over the whole file: no attacker host was contacted, and each key reached only its provider, in its auth header', () => {
    assert.deepEqual(h.mock.attackerHits().map((r) => `${r.host}${r.path}`), []);
    for (const record of h.mock.requests) {
      const text = JSON.stringify({ ...record, bodyText: record.bodyText });
      for (const [provider, secret] of Object.entries(SECRETS)) {
        if (!text.includes(secret)) continue;
        assert.equal(record.host, PROVIDER_HOST[provider], `${provider} key sent to ${record.host}`);
        const [name, value] = AUTH_HEADER[provider](secret);
        assert.equal(record.headers[name], value, `${provider} key in ${name}`);
        const elsewhere = { ...record, headers: { ...record.headers, [name]: '' } };
        assert.ok(!JSON.stringify(elsewhere).includes(secret), `${provider} key also elsewhere in ${record.method} ${record.path}`);
      }
      for (const key of [keyA, keyB].filter(Boolean)) {
        assert.ok(!text.includes(key), `a session key went upstream: ${record.method} ${record.host}${record.path}`);
      }
    }
  });
});

// The page ↔ extension transport, through the real extension: `session.createFetch('openai')`
// must behave like `fetch` for every input shape an app or SDK hands it, carry request and
// response bytes exactly (both ways, streamed, never one giant message), keep the response's
// metadata, abort the way fetch aborts (down to the upstream connection), fail typed and fast
// when the service worker dies mid-stream, answer openai's `data:,` probe locally, and keep
// concurrent requests apart.
//
// Every request carries a random `idempotency-key` (forwarded upstream), so the mock's record
// of it is found exactly, and what the mock received is checked against what the page sent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { SPEECH_SHA256, replyText } from './lib/mock-providers.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const PASSWORD = 'transport tests password';
const SECRET = `sk-proj-e2e${randomBytes(18).toString('hex')}`;
const API = 'https://api.openai.com';
const CHAT = `${API}/v1/chat/completions`;
const SPEECH_LENGTH = 300 * 1024;

/** A fresh random marker: the request's idempotency-key and usually its prompt. */
const mark = (what) => `${what}-${randomBytes(8).toString('hex')}`;

/**
 * Runs in the page once the session exists: `window.T` holds the session's fetch and small
 * helpers shared by the tests (hashing, random bytes, error shapes, background readers).
 */
function installPageHelpers() {
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
  window.T = {
    session: window.__session,
    fetch: window.__session.createFetch('openai'),
    async sha(data) {
      const bytes = data instanceof Blob ? await data.arrayBuffer() : data;
      return hex(await crypto.subtle.digest('SHA-256', bytes));
    },
    random(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
      return out;
    },
    chatBody(prompt, extra = {}) {
      return JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], ...extra });
    },
    /** The content deltas of an OpenAI chat SSE body, joined. */
    sseText(text) {
      let out = '';
      for (const frame of text.split('\n\n')) {
        const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (!data || data === '[DONE]') continue;
        out += JSON.parse(data).choices[0]?.delta?.content ?? '';
      }
      return out;
    },
    errInfo(e) {
      return {
        type: typeof e,
        value: typeof e === 'string' ? e : undefined,
        name: e?.name,
        message: e?.message,
        code: e?.code,
        causeCode: e?.cause?.code,
        isDOMException: e instanceof DOMException,
        isTypeError: e instanceof TypeError,
        isError: e instanceof Error,
      };
    },
    bg: {},
    /**
     * Starts a request whose body is read chunk by chunk in the background, into T.bg[id]:
     * {status, chunks: [text], done, error, errorAt, ctrl, reader}. Resolves once the head is in.
     */
    async startStream(id, { model = 'gpt-4o-mock-slow', reason } = {}) {
      const ctrl = new AbortController();
      const st = (T.bg[id] = { chunks: [], done: false, error: null, rawError: null, errorAt: null, ctrl });
      const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': id },
        body: T.chatBody(id, { model, stream: true }),
        signal: ctrl.signal,
      });
      st.status = res.status;
      st.reader = res.body.getReader();
      const decoder = new TextDecoder();
      (async () => {
        try {
          for (;;) {
            const { done, value } = await st.reader.read();
            if (done) {
              st.done = true;
              return;
            }
            st.chunks.push(decoder.decode(value, { stream: true }));
          }
        } catch (e) {
          st.errorAt = Date.now();
          st.rawError = e;
          st.error = T.errInfo(e);
        }
      })();
      return st.status;
    },
  };
}

describe('transport: createFetch through the real extension', () => {
  let h;
  let page;

  /** The mock's record of the request whose idempotency-key is `id` (waits for it). */
  const recordOf = (id, options) => h.mock.waitFor((r) => r.headers['idempotency-key'] === id, options);
  const hasRecord = (id) => h.mock.requests.some((r) => r.headers['idempotency-key'] === id);

  /** Counts the `body` frames of every request port in the service worker (set up again after a restart). */
  async function observeWorkerFrames() {
    await h.browser.serviceWorker.evaluate(() => {
      if (globalThis.__transportFrames) return;
      globalThis.__transportFrames = [];
      chrome.runtime.onConnect.addListener((port) => {
        if (port.name !== 'keyfob.requests') return;
        const byExchange = new Map(); // one port carries many exchanges, told apart by id
        port.onMessage.addListener((m) => {
          if (m?.t === 'req') {
            const seen = { key: null, bodyFrames: 0, bodyChars: 0, largest: 0, other: 0 };
            seen.key = (m.headers ?? []).find(([k]) => k.toLowerCase() === 'idempotency-key')?.[1] ?? null;
            byExchange.set(m.id, seen);
            globalThis.__transportFrames.push(seen);
            return;
          }
          const seen = byExchange.get(m?.id);
          if (!seen) return;
          if (m.t === 'body') {
            seen.bodyFrames += 1;
            seen.bodyChars += String(m.b).length;
            seen.largest = Math.max(seen.largest, String(m.b).length);
          } else if (m.t !== 'end' && m.t !== 'ping') seen.other += 1;
        });
      });
    });
  }

  before(async () => {
    h = await startHarness();
    const wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'transport', secret: SECRET });
    await wallet.close();
    page = await h.newPage('/sdk.html');
    await page.evaluate(() => window.SDK_READY);
    const connected = page.evaluate(async () => {
      window.__session = await window.keyfob.connect({ providers: ['openai'] });
      return Object.keys(window.__session.providers);
    });
    await approveNext(h.browser.context, { providers: ['openai'], password: PASSWORD });
    assert.deepEqual(await connected, ['openai']);
    // Uploads go to the files surface, which is off until the user ticks it for the site.
    const settings = await openWallet(h.browser);
    await settings.call('grants.setPolicy', { origin: h.pages.a.origin, policy: { surfaces: ['files'] } });
    await settings.close();
    await page.evaluate(installPageHelpers);
    await observeWorkerFrames();
  });
  after(async () => {
    await h?.teardown();
  });

  // ---------------------------------------------------------------------------------------------
  // 1. Input shapes

  describe('input shapes behave like fetch', () => {
    test('URL as a string: GET, JSON back, the real key upstream, url kept', async () => {
      const id = mark('string-url');
      const out = await page.evaluate(async (id) => {
        // Called with `this` undefined, as the SDKs call fetch.
        const fetchFn = T.fetch;
        const res = await fetchFn('https://api.openai.com/v1/models', { headers: { 'idempotency-key': id } });
        return { status: res.status, url: res.url, ids: (await res.json()).data.map((m) => m.id) };
      }, id);
      assert.equal(out.status, 200);
      assert.equal(out.url, `${API}/v1/models`);
      assert.ok(out.ids.includes('gpt-4o-mini'));
      const rec = await recordOf(id);
      assert.equal(rec.method, 'GET');
      assert.equal(rec.path, '/v1/models');
      assert.equal(rec.bodyLength, 0);
      assert.equal(rec.headers.authorization, `Bearer ${SECRET}`);
    });

    test('URL as a URL object', async () => {
      const id = mark('url-object');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch(new URL('https://api.openai.com/v1/chat/completions'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id),
        });
        return { status: res.status, url: res.url, content: (await res.json()).choices[0].message.content };
      }, id);
      assert.equal(out.status, 200);
      assert.equal(out.url, CHAT);
      assert.equal(out.content, replyText(id));
      assert.equal((await recordOf(id)).path, '/v1/chat/completions');
    });

    test('a Request object with its own method, headers and body', async () => {
      const id = mark('request-object');
      const out = await page.evaluate(async (id) => {
        const req = new Request('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id, accept: 'application/json' },
          body: T.chatBody(id),
        });
        const res = await T.fetch(req);
        return { status: res.status, url: res.url, content: (await res.json()).choices[0].message.content, used: req.bodyUsed };
      }, id);
      assert.equal(out.status, 200);
      assert.equal(out.url, CHAT);
      assert.equal(out.content, replyText(id));
      const rec = await recordOf(id);
      assert.equal(rec.method, 'POST');
      assert.equal(rec.headers['content-type'], 'application/json');
      assert.equal(rec.headers.accept, 'application/json');
      assert.equal(JSON.parse(rec.bodyText).messages[0].content, id);
    });

    test('a Request object whose headers the init overrides, as fetch merges them', async () => {
      const id = mark('request-init');
      const stale = mark('stale');
      const out = await page.evaluate(async ({ id, stale }) => {
        const req = new Request('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': stale },
          body: T.chatBody(stale),
        });
        const res = await T.fetch(req, { headers: { 'content-type': 'application/json', 'idempotency-key': id }, body: T.chatBody(id) });
        return { status: res.status, content: (await res.json()).choices[0].message.content };
      }, { id, stale });
      assert.equal(out.status, 200);
      assert.equal(out.content, replyText(id));
      assert.equal(JSON.parse((await recordOf(id)).bodyText).messages[0].content, id);
      assert.equal(hasRecord(stale), false);
    });

    for (const shape of ['Headers', 'object', 'pairs']) {
      test(`headers as ${shape === 'pairs' ? 'an array of pairs' : shape === 'object' ? 'a plain object' : 'a Headers object'}`, async () => {
        const id = mark(`headers-${shape}`);
        const status = await page.evaluate(async ({ id, shape }) => {
          const pairs = [['Content-Type', 'application/json'], ['Idempotency-Key', id], ['Accept-Language', 'de-CH']];
          const headers = shape === 'Headers' ? new Headers(pairs) : shape === 'object' ? Object.fromEntries(pairs) : pairs;
          const res = await T.fetch('https://api.openai.com/v1/chat/completions', { method: 'POST', headers, body: T.chatBody(id) });
          await res.arrayBuffer();
          return res.status;
        }, { id, shape });
        assert.equal(status, 200);
        const rec = await recordOf(id);
        assert.equal(rec.headers['content-type'], 'application/json');
        assert.equal(rec.headers['accept-language'], 'de-CH');
      });
    }

    /** Sends a binary body of the given `kind` (built in the page) and checks the bytes the mock got. */
    async function sendBinary(kind) {
      const id = mark(`body-${kind}`);
      const out = await page.evaluate(async ({ id, kind }) => {
        const bytes = T.random(4099);
        let body;
        let expected;
        if (kind === 'ArrayBuffer') {
          body = bytes.buffer;
          expected = bytes;
        } else if (kind === 'Uint8Array-view') {
          // A view into the middle of a larger buffer: only its own bytes may go.
          body = new Uint8Array(bytes.buffer, 7, 3001);
          expected = body;
        } else if (kind === 'Float32Array-view') {
          body = new Float32Array(bytes.buffer, 12, 700);
          expected = new Uint8Array(bytes.buffer, 12, 2800);
        } else if (kind === 'DataView') {
          body = new DataView(bytes.buffer, 1, 4000);
          expected = new Uint8Array(bytes.buffer, 1, 4000);
        } else if (kind === 'Blob') {
          body = new Blob([bytes.subarray(0, 1000), 'tail ✓', bytes.subarray(1000)], { type: 'application/x-keyfob-test' });
          expected = new Uint8Array(await body.arrayBuffer());
        }
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'idempotency-key': id },
          body,
        });
        await res.arrayBuffer();
        return { status: res.status, length: expected.byteLength, sha: await T.sha(expected) };
      }, { id, kind });
      assert.equal(out.status, 200);
      const rec = await recordOf(id);
      assert.equal(rec.bodyLength, out.length, `${kind}: length upstream`);
      assert.equal(rec.bodySha256, out.sha, `${kind}: bytes upstream`);
      return rec;
    }

    test('a string body arrives byte-exact (multi-byte UTF-8) with fetch’s content-type', async () => {
      const id = mark('body-string');
      const out = await page.evaluate(async (id) => {
        const body = `${T.chatBody(id)}`.replace('}', ',"note":"ü ✓ 世界 🎉"}');
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { 'idempotency-key': id }, body });
        await res.arrayBuffer();
        return { status: res.status, body, sha: await T.sha(new TextEncoder().encode(body)) };
      }, id);
      assert.equal(out.status, 200);
      const rec = await recordOf(id);
      assert.equal(rec.bodyText, out.body);
      assert.equal(rec.bodySha256, out.sha);
      assert.equal(rec.headers['content-type'], 'text/plain;charset=UTF-8');
    });

    test('an ArrayBuffer body arrives byte-exact', async () => {
      await sendBinary('ArrayBuffer');
    });

    test('a typed-array view with a non-zero byteOffset sends only its own bytes', async () => {
      await sendBinary('Uint8Array-view');
      await sendBinary('Float32Array-view');
      await sendBinary('DataView');
    });

    test('a Blob body arrives byte-exact with its type as content-type', async () => {
      const rec = await sendBinary('Blob');
      assert.equal(rec.headers['content-type'], 'application/x-keyfob-test');
    });

    test('FormData with a File: the multipart upload reaches /v1/files byte-exact', async () => {
      const id = mark('formdata');
      const out = await page.evaluate(async (id) => {
        const bytes = T.random(70_001);
        const fd = new FormData();
        fd.append('purpose', 'user_data');
        fd.append('file', new File([bytes], `${id}.bin`, { type: 'application/octet-stream' }));
        const res = await T.fetch('https://api.openai.com/v1/files', { method: 'POST', headers: { 'idempotency-key': id }, body: fd });
        return { status: res.status, reply: await res.json(), length: bytes.length, sha: await T.sha(bytes) };
      }, id);
      assert.equal(out.status, 200, JSON.stringify(out.reply));
      assert.equal(out.reply.bytes, out.length);
      assert.equal(out.reply.sha256, out.sha);
      const rec = await recordOf(id);
      assert.match(rec.headers['content-type'], /^multipart\/form-data; boundary=/);
      assert.deepEqual(rec.upload, { filename: `${id}.bin`, bytes: out.length, sha256: out.sha, purpose: 'user_data' });
    });

    test('URLSearchParams: form-encoded, with fetch’s content-type', async () => {
      const id = mark('urlsearchparams');
      const out = await page.evaluate(async (id) => {
        const body = new URLSearchParams({ id, text: 'a b&c=ü✓' });
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { 'idempotency-key': id }, body });
        await res.arrayBuffer();
        return { status: res.status, text: body.toString() };
      }, id);
      assert.equal(out.status, 200);
      const rec = await recordOf(id);
      assert.equal(rec.bodyText, out.text);
      assert.equal(rec.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    });

    test('a ReadableStream body with duplex: half arrives byte-exact', async () => {
      const id = mark('stream-body');
      const out = await page.evaluate(async (id) => {
        const parts = [new TextEncoder().encode(T.chatBody(id).slice(0, 10)), T.random(100_000), new Uint8Array(0), T.random(3)];
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
        let i = 0;
        const body = new ReadableStream({
          pull(c) {
            if (i < parts.length) c.enqueue(parts[i++]);
            else c.close();
          },
        });
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'idempotency-key': id, 'content-type': 'application/octet-stream' },
          body,
          duplex: 'half',
        });
        await res.arrayBuffer();
        return { status: res.status, length: all.length, sha: await T.sha(all) };
      }, id);
      assert.equal(out.status, 200);
      const rec = await recordOf(id);
      assert.equal(rec.bodyLength, out.length);
      assert.equal(rec.bodySha256, out.sha);
    });

    test('a ReadableStream body of many small chunks (10 000) arrives whole', async () => {
      const id = mark('stream-many');
      const out = await page.evaluate(async (id) => {
        const all = T.random(10_000 * 7);
        let at = 0;
        const body = new ReadableStream({
          pull(c) {
            if (at < all.length) {
              c.enqueue(all.slice(at, at + 7));
              at += 7;
            } else c.close();
          },
        });
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'idempotency-key': id, 'content-type': 'application/octet-stream' },
          body,
          duplex: 'half',
        });
        return { status: res.status, text: await res.text(), length: all.length, sha: await T.sha(all) };
      }, id);
      assert.equal(out.status, 200, out.text);
      const rec = await recordOf(id);
      assert.equal(rec.bodyLength, out.length);
      assert.equal(rec.bodySha256, out.sha);
    });

    test('a 20 MB body arrives byte-exact, in many bounded frames', async (t) => {
      const id = mark('body-20mb');
      const size = 20 * 1024 * 1024;
      const out = await page.evaluate(async ({ id, size }) => {
        const bytes = T.random(size);
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'idempotency-key': id, 'content-type': 'application/octet-stream' },
          body: bytes,
        });
        return { status: res.status, text: await res.text(), sha: await T.sha(bytes) };
      }, { id, size });
      assert.equal(out.status, 200, out.text.slice(0, 500));
      const rec = await recordOf(id);
      assert.equal(rec.bodyLength, size);
      assert.equal(rec.bodySha256, out.sha);
      // What the service worker's port carried: base64 in many frames, none of them huge.
      const seen = await h.browser.serviceWorker.evaluate((key) => globalThis.__transportFrames.find((f) => f.key === key), id);
      assert.ok(seen, 'the worker-side observer saw the request');
      t.diagnostic(`20 MB: ${seen.bodyFrames} body frames, largest ${seen.largest} base64 chars, ${seen.bodyChars} in all`);
      assert.ok(seen.bodyChars >= (4 * size) / 3, `the frames carried ${seen.bodyChars} base64 characters`);
      assert.ok(seen.bodyFrames >= 20, `20 MB went in ${seen.bodyFrames} frame(s)`);
      assert.ok(seen.largest <= 1024 * 1024, `largest frame carried ${seen.largest} base64 characters`);
    });

    test('a GET with a body is refused as fetch refuses it: TypeError, nothing upstream', async () => {
      const id = mark('get-with-body');
      const out = await page.evaluate(
        (id) => T.fetch('https://api.openai.com/v1/models', { headers: { 'idempotency-key': id }, body: 'x' }).then(() => 'resolved', (e) => T.errInfo(e)),
        id,
      );
      assert.equal(out.isTypeError, true, JSON.stringify(out));
      const sentinel = mark('after-get-with-body');
      await page.evaluate((k) => T.fetch('https://api.openai.com/v1/models', { headers: { 'idempotency-key': k } }).then((r) => r.text()), sentinel);
      await recordOf(sentinel);
      assert.equal(hasRecord(id), false);
    });

    test('a body stream that errors fails the fetch with a TypeError and sends nothing upstream', async () => {
      const id = mark('body-errors');
      const out = await page.evaluate(async (id) => {
        let n = 0;
        const body = new ReadableStream({
          pull(c) {
            if (n++ < 3) c.enqueue(T.random(1000));
            else c.error(new Error('the app’s body broke'));
          },
        });
        return T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'idempotency-key': id, 'content-type': 'application/octet-stream' },
          body,
          duplex: 'half',
        }).then((r) => `resolved ${r.status}`, (e) => T.errInfo(e));
      }, id);
      assert.equal(out.isTypeError, true, JSON.stringify(out));
      const sentinel = mark('after-body-errors');
      await page.evaluate((k) => T.fetch('https://api.openai.com/v1/models', { headers: { 'idempotency-key': k } }).then((r) => r.text()), sentinel);
      await recordOf(sentinel);
      assert.equal(hasRecord(id), false, 'a truncated body went upstream');
    });

    test('an abort while the body is still streaming cancels the page’s body stream, as fetch does', async () => {
      const id = mark('abort-upload');
      await page.evaluate((id) => {
        const ctrl = new AbortController();
        const st = (T.bg[id] = { ctrl, pulls: 0, pullsDone: 0, pullsAtCancel: null, cancelled: null, outcome: null });
        // A slow, endless upload: a chunk every 20 ms until someone cancels it (the 20 ms
        // paces the producer; no assertion waits on it).
        const body = new ReadableStream({
          async pull(c) {
            st.pulls += 1;
            try {
              await new Promise((r) => setTimeout(r, 20));
              c.enqueue(T.random(100));
            } catch {
              // enqueue after the cancel throws: that read was already under way.
            } finally {
              st.pullsDone += 1;
            }
          },
          cancel(reason) {
            st.pullsAtCancel = st.pulls;
            st.cancelled = { reason: reason === st.reason };
          },
        });
        T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'idempotency-key': id, 'content-type': 'application/octet-stream' },
          body,
          duplex: 'half',
          signal: ctrl.signal,
        }).then((r) => (st.outcome = { resolved: r.status }), (e) => (st.outcome = T.errInfo(e)));
      }, id);
      await page.waitForFunction((id) => T.bg[id].pulls >= 5, id);
      await page.evaluate((id) => {
        T.bg[id].reason = new DOMException('stop uploading', 'AbortError');
        T.bg[id].ctrl.abort(T.bg[id].reason);
      }, id);
      await page.waitForFunction((id) => T.bg[id].outcome, id);
      assert.equal((await page.evaluate((id) => T.bg[id].outcome, id)).name, 'AbortError');
      await page.waitForFunction((id) => T.bg[id].cancelled, id, { timeout: 10_000 });
      assert.deepEqual(await page.evaluate((id) => T.bg[id].cancelled, id), { reason: true });
      // No more reads after the cancel. Fence: a later request through the same transport
      // reaches the mock and comes back, and the read that was under way at the cancel (if
      // any) has finished; only then is the count final.
      const sentinel = mark('after-abort-upload');
      await page.evaluate((k) => T.fetch('https://api.openai.com/v1/models', { headers: { 'idempotency-key': k } }).then((r) => r.text()), sentinel);
      await recordOf(sentinel);
      await page.waitForFunction((id) => T.bg[id].pullsDone === T.bg[id].pulls, id);
      const { pulls, pullsAtCancel } = await page.evaluate((id) => ({ pulls: T.bg[id].pulls, pullsAtCancel: T.bg[id].pullsAtCancel }), id);
      assert.equal(pulls, pullsAtCancel, 'the body stream was read again after the cancel');
      assert.equal(hasRecord(id), false);
    });

    test('an empty body: content-length 0 upstream', async () => {
      for (const kind of ['string', 'bytes']) {
        const id = mark(`empty-${kind}`);
        const status = await page.evaluate(async ({ id, kind }) => {
          const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
            method: 'POST',
            headers: { 'idempotency-key': id, 'content-type': 'application/json' },
            body: kind === 'string' ? '' : new Uint8Array(0),
          });
          await res.arrayBuffer();
          return res.status;
        }, { id, kind });
        assert.equal(status, 200);
        const rec = await recordOf(id);
        assert.equal(rec.method, 'POST');
        assert.equal(rec.bodyLength, 0);
        assert.ok(rec.headers['content-length'] === undefined || rec.headers['content-length'] === '0', rec.headers['content-length']);
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 2. Response bodies

  describe('response bodies', () => {
    test('binary /v1/audio/speech: arrayBuffer() is byte-exact', async () => {
      const id = mark('speech-ab');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/audio/speech', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: id }),
        });
        const buf = await res.arrayBuffer();
        return { status: res.status, type: res.headers.get('content-type'), length: buf.byteLength, sha: await T.sha(buf) };
      }, id);
      assert.equal(out.status, 200);
      assert.equal(out.type, 'audio/mpeg');
      assert.equal(out.length, SPEECH_LENGTH);
      assert.equal(out.sha, SPEECH_SHA256);
      assert.equal((await recordOf(id)).route, 'openai.speech');
    });

    test('binary /v1/audio/speech: blob() is byte-exact and typed', async () => {
      const id = mark('speech-blob');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/audio/speech', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: id }),
        });
        const blob = await res.blob();
        return { size: blob.size, type: blob.type, sha: await T.sha(blob) };
      }, id);
      assert.deepEqual(out, { size: SPEECH_LENGTH, type: 'audio/mpeg', sha: SPEECH_SHA256 });
    });

    test('binary /v1/audio/speech: response.body yields Uint8Array chunks, byte-exact', async () => {
      const id = mark('speech-stream');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/audio/speech', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: id }),
        });
        const reader = res.body.getReader();
        const chunks = [];
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!(value instanceof Uint8Array)) return { bad: Object.prototype.toString.call(value) };
          chunks.push(value);
        }
        return { count: chunks.length, sha: await T.sha(await new Blob(chunks).arrayBuffer()) };
      }, id);
      assert.equal(out.bad, undefined, `chunks must be Uint8Array, got ${out.bad}`);
      assert.ok(out.count >= 1);
      assert.equal(out.sha, SPEECH_SHA256);
    });

    test('text() of a body split inside UTF-8 characters (mock-split), JSON and SSE', async () => {
      const id = mark('split');
      const out = await page.evaluate(async (id) => {
        const post = (stream) =>
          T.fetch('https://api.openai.com/v1/chat/completions', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `${id}-${stream}` },
            body: T.chatBody(id, { model: 'gpt-4o-mock-split', stream }),
          });
        const json = await (await post(false)).text();
        const res = await post(true);
        const reader = res.body.getReader();
        const parts = [];
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
        }
        const sse = new TextDecoder().decode(await new Blob(parts).arrayBuffer());
        return { json, sse: T.sseText(sse), chunks: parts.length, hasReplacement: (json + sse).includes('\uFFFD') };
      }, id);
      assert.equal(out.hasReplacement, false);
      assert.equal(JSON.parse(out.json).choices[0].message.content, replyText(id));
      assert.equal(out.sse, replyText(id));
      assert.ok(out.chunks > 1, `the split SSE came in ${out.chunks} chunk(s)`);
    });

    test('json() of a chat completion', async () => {
      const id = mark('json');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id),
        });
        return res.json();
      }, id);
      assert.equal(out.object, 'chat.completion');
      assert.equal(out.choices[0].message.content, replyText(id));
      assert.equal(typeof out.usage.total_tokens, 'number');
    });

    test('a slow SSE stream is delivered as it arrives, not buffered to the end', async () => {
      const id = mark('slow-stream');
      assert.equal(await page.evaluate((id) => T.startStream(id), id), 200);
      // Three chunks are readable in the page …
      await page.waitForFunction((id) => T.bg[id].chunks.join('').includes('tick 3 '), id, { timeout: 30_000 });
      // … while the mock is still streaming (it goes on for 60 s).
      const rec = await recordOf(id);
      assert.equal(rec.finished, false);
      assert.equal(rec.closedEarly, false);
      const st = await page.evaluate((id) => ({ chunks: T.bg[id].chunks, done: T.bg[id].done, error: T.bg[id].error }), id);
      assert.equal(st.done, false);
      assert.equal(st.error, null);
      assert.ok(st.chunks.length >= 3, `${st.chunks.length} chunk(s)`);
      const text = st.chunks.join('');
      assert.ok(text.indexOf('tick 1 ') < text.indexOf('tick 2 ') && text.indexOf('tick 2 ') < text.indexOf('tick 3 '), text);
      await page.evaluate((id) => T.bg[id].reader.cancel(), id);
      await h.mock.waitFor((r) => r === rec && r.closedEarly);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 3. Response metadata

  describe('response metadata', () => {
    test('status, statusText, ok, headers and url of a 200', async () => {
      const id = mark('meta-200');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id),
        });
        const body = await res.text();
        return {
          status: res.status,
          statusText: res.statusText,
          ok: res.ok,
          url: res.url,
          isResponse: res instanceof Response,
          headers: Object.fromEntries(res.headers),
          bodyLength: new TextEncoder().encode(body).length,
        };
      }, id);
      assert.equal(out.isResponse, true);
      assert.equal(out.status, 200);
      assert.equal(out.ok, true);
      assert.equal(out.url, CHAT);
      assert.equal(out.headers['content-type'], 'application/json');
      assert.match(out.headers['x-request-id'], /^req_mock_[0-9a-f]{8}$/);
      assert.equal(out.headers['x-mock-route'], 'openai.chat');
      if (out.headers['content-length'] !== undefined) assert.equal(Number(out.headers['content-length']), out.bodyLength);
    });

    test('url excludes the fragment, as fetch’s does, and clone() keeps it', async () => {
      const id = mark('url-fragment');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/models?limit=2#section', { headers: { 'idempotency-key': id } });
        const clone = res.clone();
        return { url: res.url, cloneUrl: clone.url, same: (await clone.text()) === (await res.text()) };
      }, id);
      assert.deepEqual(out, { url: `${API}/v1/models?limit=2`, cloneUrl: `${API}/v1/models?limit=2`, same: true });
      const rec = await recordOf(id);
      assert.equal(rec.path, '/v1/models');
      assert.equal(rec.query, 'limit=2');
    });

    test('a 429 keeps status, ok, retry-after, retry-after-ms and x-request-id, like a direct fetch', async () => {
      const id = mark('meta-429');
      const out = await page.evaluate(async (id) => {
        const init = (key) => ({
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: T.chatBody(id, { model: 'mock-429' }),
        });
        const summary = async (res) => ({
          status: res.status,
          statusText: res.statusText,
          ok: res.ok,
          url: res.url,
          retryAfter: res.headers.get('retry-after'),
          retryAfterMs: res.headers.get('retry-after-ms'),
          requestId: res.headers.get('x-request-id'),
          type: res.headers.get('content-type'),
          error: (await res.json()).error,
        });
        return {
          keyfob: await summary(await T.fetch('https://api.openai.com/v1/chat/completions', init(id))),
          direct: await summary(await fetch('https://api.openai.com/v1/chat/completions', init(`${id}-direct`))),
        };
      }, id);
      assert.equal(out.keyfob.status, 429);
      assert.equal(out.keyfob.ok, false);
      assert.equal(out.keyfob.url, CHAT);
      assert.equal(out.keyfob.retryAfter, '0');
      assert.equal(out.keyfob.retryAfterMs, '10');
      assert.match(out.keyfob.requestId, /^req_mock_[0-9a-f]{8}$/);
      assert.equal(out.keyfob.error.code, 'rate_limit_exceeded');
      // Everything but the per-request id is what the page's own fetch sees.
      assert.deepEqual({ ...out.keyfob, requestId: null }, { ...out.direct, requestId: null });
      assert.equal((await recordOf(id)).status, 429);
    });

    test('a gzip answer arrives decoded, with no content-encoding or content-length that lies', async () => {
      const id = mark('gzip');
      const out = await page.evaluate(async (id) => {
        const post = (stream) =>
          T.fetch('https://api.openai.com/v1/chat/completions', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `${id}-${stream}` },
            body: T.chatBody(id, { model: 'gpt-4o-mock-gzip', stream }),
          });
        const summary = async (res) => {
          const buf = await res.arrayBuffer();
          return {
            encoding: res.headers.get('content-encoding'),
            length: res.headers.get('content-length'),
            actual: buf.byteLength,
            text: new TextDecoder().decode(buf),
          };
        };
        return { json: await summary(await post(false)), sse: await summary(await post(true)) };
      }, id);
      assert.equal(h.mock.requests.find((r) => r.headers['idempotency-key'] === `${id}-false`)?.route, 'openai.chat');
      for (const which of ['json', 'sse']) {
        const r = out[which];
        assert.equal(r.encoding, null, `${which}: content-encoding`);
        assert.ok(r.length === null || Number(r.length) === r.actual, `${which}: content-length ${r.length} for ${r.actual} bytes`);
      }
      assert.equal(JSON.parse(out.json.text).choices[0].message.content, replyText(id));
      assert.equal(await page.evaluate((t) => T.sseText(t), out.sse.text), replyText(id));
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 4. Abort

  describe('abort', () => {
    test('aborted before the call: rejects with AbortError at once, nothing goes upstream', async () => {
      const id = mark('abort-before');
      const out = await page.evaluate(async (id) => {
        const ctrl = new AbortController();
        ctrl.abort();
        const p = T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id),
          signal: ctrl.signal,
        });
        // Settled before any task runs: no round trip to the extension happened first.
        const first = await Promise.race([
          p.then(() => 'resolved', (e) => ({ e: T.errInfo(e) })),
          new Promise((r) => setTimeout(() => r('pending'), 0)),
        ]);
        return first;
      }, id);
      assert.notEqual(out, 'pending', 'the promise was still pending after a task');
      assert.notEqual(out, 'resolved');
      assert.equal(out.e.name, 'AbortError');
      assert.equal(out.e.isDOMException, true);
      // A request sent after it arrives upstream; the aborted one never did.
      const after = mark('after-abort-before');
      await page.evaluate((k) => T.fetch('https://api.openai.com/v1/models', { headers: { 'idempotency-key': k } }).then((r) => r.text()), after);
      await recordOf(after);
      assert.equal(hasRecord(id), false);
    });

    test('aborted while waiting for the headers: AbortError, and the mock sees the connection close', async () => {
      const id = mark('abort-headers');
      await page.evaluate((id) => {
        const ctrl = new AbortController();
        const st = (T.bg[id] = { ctrl, outcome: null });
        // Non-streaming under mock-slow: the mock holds even the status line for 60 s.
        T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id, { model: 'gpt-4o-mock-slow' }),
          signal: ctrl.signal,
        }).then(
          (r) => (st.outcome = { resolved: r.status }),
          (e) => (st.outcome = T.errInfo(e)),
        );
      }, id);
      const rec = await recordOf(id);
      assert.equal(rec.status, null, 'no answer yet');
      assert.equal(await page.evaluate((id) => T.bg[id].outcome, id), null);
      await page.evaluate((id) => T.bg[id].ctrl.abort(), id);
      await page.waitForFunction((id) => T.bg[id].outcome, id);
      const outcome = await page.evaluate((id) => T.bg[id].outcome, id);
      assert.equal(outcome.name, 'AbortError', JSON.stringify(outcome));
      assert.equal(outcome.isDOMException, true);
      await h.mock.waitFor((r) => r === rec && r.closedEarly);
      assert.equal(rec.finished, false);
    });

    test('aborted during the body stream: reader.read() rejects with AbortError, the mock sees the close', async () => {
      const id = mark('abort-body');
      assert.equal(await page.evaluate((id) => T.startStream(id), id), 200);
      await page.waitForFunction((id) => T.bg[id].chunks.join('').includes('tick 1 '), id, { timeout: 30_000 });
      await page.evaluate((id) => T.bg[id].ctrl.abort(), id);
      await page.waitForFunction((id) => T.bg[id].error || T.bg[id].done, id);
      const st = await page.evaluate((id) => ({ error: T.bg[id].error, done: T.bg[id].done }), id);
      assert.equal(st.done, false, 'the body ended normally after an abort (a silently truncated answer)');
      assert.equal(st.error.name, 'AbortError');
      assert.equal(st.error.isDOMException, true);
      const rec = await recordOf(id);
      await h.mock.waitFor((r) => r === rec && r.closedEarly);
    });

    test('the signal of a Request input aborts it', async () => {
      const id = mark('request-signal');
      await page.evaluate((id) => {
        const ctrl = new AbortController();
        const st = (T.bg[id] = { ctrl, outcome: null });
        const req = new Request('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id, { model: 'gpt-4o-mock-slow' }),
          signal: ctrl.signal,
        });
        T.fetch(req).then((r) => (st.outcome = { resolved: r.status }), (e) => (st.outcome = T.errInfo(e)));
      }, id);
      const rec = await recordOf(id);
      await page.evaluate((id) => T.bg[id].ctrl.abort(), id);
      await page.waitForFunction((id) => T.bg[id].outcome, id);
      assert.equal((await page.evaluate((id) => T.bg[id].outcome, id)).name, 'AbortError');
      await h.mock.waitFor((r) => r === rec && r.closedEarly);
    });

    test('reader.cancel() closes the upstream connection', async () => {
      const id = mark('cancel');
      assert.equal(await page.evaluate((id) => T.startStream(id), id), 200);
      await page.waitForFunction((id) => T.bg[id].chunks.join('').includes('tick 1 '), id, { timeout: 30_000 });
      const rec = await recordOf(id);
      assert.equal(rec.closedEarly, false);
      await page.evaluate((id) => T.bg[id].reader.cancel(), id);
      await h.mock.waitFor((r) => r === rec && r.closedEarly);
      await page.waitForFunction((id) => T.bg[id].done || T.bg[id].error, id);
      assert.deepEqual(await page.evaluate((id) => ({ done: T.bg[id].done, error: T.bg[id].error }), id), { done: true, error: null });
    });

    test('response.body.cancel() without a reader closes the upstream connection too', async () => {
      const id = mark('body-cancel');
      await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id, { model: 'gpt-4o-mock-slow', stream: true }),
        });
        await res.body.cancel();
      }, id);
      const rec = await recordOf(id);
      await h.mock.waitFor((r) => r === rec && r.closedEarly);
    });

    test('a custom signal.reason propagates as fetch does: before, while waiting, during the body', async () => {
      const ids = { before: mark('reason-before'), headers: mark('reason-headers'), body: mark('reason-body') };
      // In the page: T.bg[id].fetch() posts a chat with the signal of T.bg[id].ctrl.
      const start = (id, model, stream) =>
        page.evaluate(({ id, model, stream }) => {
          const ctrl = new AbortController();
          const st = (T.bg[id] = { ctrl });
          st.fetch = () =>
            T.fetch('https://api.openai.com/v1/chat/completions', {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'idempotency-key': id },
              body: T.chatBody(id, { model, stream }),
              signal: ctrl.signal,
            });
        }, { id, model, stream });
      const out = {};
      // Before the call, with an Error as the reason.
      await start(ids.before, 'gpt-4o-mini', false);
      out.before = await page.evaluate(async (id) => {
        const reason = new Error('custom before');
        T.bg[id].ctrl.abort(reason);
        return T.bg[id].fetch().then(() => 'resolved', (e) => e === reason);
      }, ids.before);
      // While waiting for the head, with a string as the reason: aborted once the mock holds
      // the request (mock-slow sends no status line for 60 s).
      await start(ids.headers, 'gpt-4o-mock-slow', false);
      await page.evaluate((id) => {
        const st = T.bg[id];
        st.outcome = st.fetch().then(() => 'resolved', (e) => (e === 'a string reason' ? true : T.errInfo(e)));
      }, ids.headers);
      const waiting = await recordOf(ids.headers);
      assert.equal(waiting.status, null, 'the mock has not answered yet');
      out.headers = await page.evaluate((id) => {
        T.bg[id].ctrl.abort('a string reason');
        return T.bg[id].outcome;
      }, ids.headers);
      // During the body, with a custom object.
      await start(ids.body, 'gpt-4o-mock-slow', true);
      out.body = await page.evaluate(async (id) => {
        const reason = { custom: true };
        const res = await T.bg[id].fetch();
        const reader = res.body.getReader();
        await reader.read();
        T.bg[id].ctrl.abort(reason);
        return reader.read().then((s) => `read ${JSON.stringify(s)}`, (e) => e === reason);
      }, ids.body);
      assert.deepEqual(out, { before: true, headers: true, body: true });
      assert.equal(hasRecord(ids.before), false, 'the request aborted before the call went upstream');
      await h.mock.waitFor((r) => r === waiting && r.closedEarly);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 6. openai's data: probe

  describe('the data: probe', () => {
    test('fetch("data:,") is answered in the page, nothing goes upstream', async () => {
      const before = h.mock.requests.length;
      const out = await page.evaluate(async () => {
        const res = await T.fetch('data:,');
        const text = await res.text();
        const fd = new FormData();
        fd.append('x', 'y');
        const probe = await T.fetch('data:,', { method: 'POST', body: fd });
        return { ok: res.ok, status: res.status, text, probe: probe.ok, isResponse: res instanceof Response };
      });
      assert.deepEqual(out, { ok: true, status: 200, text: '', probe: true, isResponse: true });
      const sentinel = mark('after-probe');
      await page.evaluate((k) => T.fetch('https://api.openai.com/v1/models', { headers: { 'idempotency-key': k } }).then((r) => r.text()), sentinel);
      await recordOf(sentinel);
      assert.deepEqual(h.mock.requests.slice(before).map((r) => r.headers['idempotency-key']), [sentinel]);
    });

    test('the openai SDK uploads a file through createFetch (its data: probe included)', async () => {
      const name = `${mark('sdk-upload')}.bin`;
      const out = await page.evaluate(async (name) => {
        const { OpenAI } = window.SDK;
        const client = new OpenAI({ apiKey: T.session.sessionKey, fetch: T.fetch, dangerouslyAllowBrowser: true, maxRetries: 0 });
        const bytes = T.random(12_345);
        const file = new File([bytes], name, { type: 'application/octet-stream' });
        const reply = await client.files.create({ file, purpose: 'user_data' });
        return { bytes: reply.bytes, sha256: reply.sha256, expected: await T.sha(bytes), length: bytes.length };
      }, name);
      assert.equal(out.bytes, out.length);
      assert.equal(out.sha256, out.expected);
      const rec = await h.mock.waitFor((r) => r.upload?.filename === name);
      assert.equal(rec.upload.sha256, out.expected);
      assert.equal(rec.headers.authorization, `Bearer ${SECRET}`);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 7. Concurrency

  describe('concurrency', () => {
    test('32 concurrent requests, streaming and not, each get their own bytes', async () => {
      const jobs = [];
      for (let i = 0; i < 32; i += 1) {
        const kind = ['chat', 'stream', 'speech', 'upload', 'split'][i % 5];
        jobs.push({ kind, id: mark(`many-${i}-${kind}`) });
      }
      const results = await page.evaluate(async (jobs) => {
        const url = (p) => `https://api.openai.com${p}`;
        const run = async ({ kind, id }) => {
          const headers = { 'content-type': 'application/json', 'idempotency-key': id };
          if (kind === 'chat') {
            const res = await T.fetch(url('/v1/chat/completions'), { method: 'POST', headers, body: T.chatBody(id) });
            return { status: res.status, text: (await res.json()).choices[0].message.content };
          }
          if (kind === 'stream' || kind === 'split') {
            const model = kind === 'split' ? 'gpt-4o-mock-split' : 'gpt-4o-mini';
            const res = await T.fetch(url('/v1/chat/completions'), { method: 'POST', headers, body: T.chatBody(id, { model, stream: true }) });
            return { status: res.status, text: T.sseText(await res.text()) };
          }
          if (kind === 'speech') {
            const res = await T.fetch(url('/v1/audio/speech'), { method: 'POST', headers, body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: id }) });
            return { status: res.status, sha: await T.sha(await res.arrayBuffer()) };
          }
          const bytes = T.random(50_000 + (id.length % 7) * 1000);
          const fd = new FormData();
          fd.append('purpose', 'user_data');
          fd.append('file', new File([bytes], `${id}.bin`));
          const res = await T.fetch(url('/v1/files'), { method: 'POST', headers: { 'idempotency-key': id }, body: fd });
          const reply = await res.json();
          return { status: res.status, sha: reply.sha256, expected: await T.sha(bytes), name: reply.filename };
        };
        return Promise.all(jobs.map((j) => run(j).catch((e) => ({ error: String(e?.stack ?? e) }))));
      }, jobs);
      for (const [i, { kind, id }] of jobs.entries()) {
        const r = results[i];
        assert.equal(r.error, undefined, `${id}: ${r.error}`);
        assert.equal(r.status, 200, id);
        if (kind === 'chat' || kind === 'stream' || kind === 'split') assert.equal(r.text, replyText(id), id);
        else if (kind === 'speech') assert.equal(r.sha, SPEECH_SHA256, id);
        else {
          assert.equal(r.sha, r.expected, id);
          assert.equal(r.name, `${id}.bin`);
        }
      }
      for (const { id } of jobs) assert.ok(hasRecord(id), `${id} reached the mock`);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 5. Service-worker death (last: it restarts the worker)

  describe('service worker killed mid-stream', () => {
    test('the reader rejects with WORKER_RESTARTED, upstream closes, and a request after the wake works', async (t) => {
      const id = mark('sw-death');
      assert.equal(await page.evaluate((id) => T.startStream(id), id), 200);
      await page.waitForFunction((id) => T.bg[id].chunks.join('').includes('tick 2 '), id, { timeout: 30_000 });
      const stopAsked = Date.now();
      await h.browser.stopServiceWorker();
      const stopped = Date.now();
      await page.waitForFunction((id) => T.bg[id].error || T.bg[id].done, id, { timeout: 60_000 });
      const st = await page.evaluate((id) => ({ error: T.bg[id].error, done: T.bg[id].done, errorAt: T.bg[id].errorAt }), id);
      t.diagnostic(`service-worker death detected ${st.errorAt - stopAsked} ms after stopWorker was sent, ${st.errorAt - stopped} ms after Chromium reported it stopped`);
      assert.equal(st.done, false, 'the body ended normally: a silently truncated answer');
      const code = st.error.code ?? st.error.causeCode;
      assert.equal(code, 'WORKER_RESTARTED', JSON.stringify(st.error));
      assert.ok(st.error.code === 'WORKER_RESTARTED' ? st.error.isError : st.error.isTypeError, JSON.stringify(st.error));
      const rec = await recordOf(id);
      await h.mock.waitFor((r) => r === rec && r.closedEarly, { timeout: 30_000 });

      const woke = await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
      assert.equal(woke?.value?.state, 'unlocked', JSON.stringify(woke));
      const next = mark('after-wake');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id, { stream: true }),
        });
        return { status: res.status, text: T.sseText(await res.text()) };
      }, next);
      assert.deepEqual(out, { status: 200, text: replyText(next) });
      assert.equal((await recordOf(next)).headers.authorization, `Bearer ${SECRET}`);
    });

    test('killed while waiting for the headers: the promise rejects with a TypeError caused by WORKER_RESTARTED', async () => {
      const id = mark('sw-death-headers');
      await page.evaluate((id) => {
        const st = (T.bg[id] = { outcome: null });
        T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id, { model: 'gpt-4o-mock-slow' }),
        }).then((r) => (st.outcome = { resolved: r.status }), (e) => (st.outcome = T.errInfo(e)));
      }, id);
      const rec = await recordOf(id);
      await h.browser.stopServiceWorker();
      await page.waitForFunction((id) => T.bg[id].outcome, id, { timeout: 60_000 });
      const outcome = await page.evaluate((id) => T.bg[id].outcome, id);
      assert.equal(outcome.isTypeError, true, JSON.stringify(outcome));
      assert.equal(outcome.causeCode, 'WORKER_RESTARTED', JSON.stringify(outcome));
      await h.mock.waitFor((r) => r === rec && r.closedEarly, { timeout: 30_000 });
    });

    test('a request to a stopped worker wakes it and is answered', async () => {
      await h.browser.stopServiceWorker();
      const id = mark('wakes-worker');
      const out = await page.evaluate(async (id) => {
        const res = await T.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: T.chatBody(id),
        });
        return { status: res.status, text: (await res.json()).choices?.[0]?.message?.content ?? null };
      }, id);
      assert.deepEqual(out, { status: 200, text: replyText(id) });
    });
  });
});

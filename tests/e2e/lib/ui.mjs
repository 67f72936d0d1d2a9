// Helpers for driving Keyfob's own pages (popup, approval window) as a person would:
// screenshots in light and dark, a DOM scan for key material, a loopback "provider" for
// base-URL keys, and the worker's clock.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { REPO_ROOT } from './browser.mjs';

/** Git-ignored; regenerate with `node tests/e2e/run.mjs ui`. */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'tests', 'e2e', 'output', 'screenshots');

/** The toolbar popup's size (Chrome sizes popups to their content, up to 800×600). */
export const POPUP_VIEWPORT = { width: 380, height: 600 };

/** Saves `<name>-light.png` and `<name>-dark.png` of the whole page; returns to light. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // From the top (the header is sticky), without a transient toast over the content.
  await page.evaluate(() => window.scrollTo(0, 0));
  const hideToast = await page.addStyleTag({ content: '.toast { visibility: hidden !important; }' });
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`), fullPage: true, animations: 'disabled' });
  }
  await hideToast.evaluate((el) => el.remove());
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
}

/** Opens the popup page in a tab sized like the toolbar popup. */
export async function openPopup(browser, hash = '') {
  const page = await browser.openExtensionPage(`popup/popup.html${hash}`);
  await page.setViewportSize(POPUP_VIEWPORT);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  return page;
}

/**
 * Fails if any secret, or any 10-character run of its random part, is in the page's DOM:
 * markup, text, attribute values and the live values of every field.
 */
export async function assertNoKeyInDom(page, secrets, what) {
  const dom = await page.evaluate(() => {
    const values = [...document.querySelectorAll('input, textarea, select')].map((el) => el.value);
    return `${document.documentElement.outerHTML}\n${document.body.innerText}\n${values.join('\n')}`;
  });
  for (const { secret, random } of secrets) {
    assert.ok(!dom.includes(secret), `${what}: a whole key is in the DOM`);
    for (let i = 0; i + 10 <= random.length; i += 1) {
      assert.ok(!dom.includes(random.slice(i, i + 10)), `${what}: part of a key is in the DOM`);
    }
  }
}

/**
 * An OpenAI-compatible server on 127.0.0.1 (a "local model server"): `GET /v1/models`
 * answers 200 for `Bearer <goodKey>` and 401 otherwise. Records each request.
 */
export async function startLocalProvider(goodKey) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    if (req.method === 'GET' && req.url === '/v1/models') {
      const ok = req.headers.authorization === `Bearer ${goodKey}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { object: 'list', data: [{ id: 'local-model' }] } : { error: { message: 'bad key' } }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    requests,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Moves the service worker's clock `offsetMs` ahead of real time (0 restores it). */
export async function shiftWorkerClock(browser, offsetMs) {
  await browser.serviceWorker.evaluate((offset) => {
    globalThis.__keyfobRealNow ??= Date.now;
    const real = globalThis.__keyfobRealNow;
    Date.now = offset ? () => real() + offset : real;
  }, offsetMs);
}

/** The toolbar badge text the worker set. */
export function badgeText(browser) {
  return browser.serviceWorker.evaluate(() => chrome.action.getBadgeText({}));
}

/** Open approval windows (pages on approve/approve.html). */
export function approvalPages(context) {
  return context.pages().filter((p) => !p.isClosed() && p.url().includes('/approve/approve.html'));
}

/** Whether the focused element shows a visible focus indicator. */
export function focusIsVisible(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { ok: false, what: 'nothing focused' };
    const style = getComputedStyle(el);
    const outlined = el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    return { ok: outlined, what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"` };
  });
}

/**
 * Records, in the extension page `page`, each worker reply to the page's own commands
 * (`chrome.runtime.sendMessage({cmd})`), so a test can wait until the worker has answered the
 * command a click sent. Install after each reload.
 */
export async function recordReplies(page) {
  await page.evaluate(() => {
    if (window.__replies) return;
    window.__replies = [];
    const send = chrome.runtime.sendMessage.bind(chrome.runtime);
    chrome.runtime.sendMessage = async (message, ...rest) => {
      const reply = await send(message, ...rest);
      window.__replies.push({ cmd: message?.cmd, reply });
      return reply;
    };
  });
}

/** Resolves with the first recorded reply to `cmd` (see recordReplies). */
export async function waitForReply(page, cmd, { timeout = 10_000 } = {}) {
  const handle = await page.waitForFunction((cmd) => window.__replies?.find((r) => r.cmd === cmd)?.reply, cmd, { timeout });
  return handle.jsonValue();
}

/** Resolves once `page` is closed (at once if it is already). */
export function waitForClose(page, { timeout = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${page.url()} still open after ${timeout} ms`)), timeout);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    page.once('close', done);
    if (page.isClosed()) done();
  });
}

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

/**
 * Watches an approval window (connect or per-request) from inside: `window.__arming` lists
 * each change of Approve between `'off'` (disabled or aria-disabled) and `'on'`, and
 * `window.__sent` each command the window sends, at the moment it sends it. Install once
 * the window shows its choice.
 */
export async function watchApproval(page) {
  await page.getByRole('button', { name: 'Approve' }).waitFor({ state: 'visible' });
  await page.evaluate(() => {
    if (window.__arming) return;
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Approve');
    const state = () => (button.disabled || button.getAttribute('aria-disabled') === 'true' ? 'off' : 'on');
    window.__arming = [state()];
    new MutationObserver(() => {
      if (window.__arming.at(-1) !== state()) window.__arming.push(state());
    }).observe(button, { attributes: true, attributeFilter: ['disabled', 'aria-disabled'] });
    window.__sent = [];
    const send = chrome.runtime.sendMessage.bind(chrome.runtime);
    chrome.runtime.sendMessage = (message, ...rest) => {
      window.__sent.push(message?.cmd);
      return send(message, ...rest);
    };
  });
}

/**
 * Presses `key` in a watched approval window (see watchApproval), then waits until Approve
 * went off (the window saw the key) and on again (it re-armed after the delay).
 */
export async function pressAndRearm(page, key) {
  await rearmsAfter(page, () => page.keyboard.press(key));
}

/**
 * Runs `act` in a watched approval window (see watchApproval), then waits until Approve
 * went off and on again.
 */
export async function rearmsAfter(page, act) {
  const mark = await page.evaluate(() => window.__arming.length);
  await act();
  await page.waitForFunction((mark) => window.__arming.slice(mark).includes('off'), mark, { timeout: 5_000 });
  await page.waitForFunction((mark) => window.__arming.length > mark && window.__arming.at(-1) === 'on' && window.__arming.slice(mark).includes('off'), mark, { timeout: 10_000 });
}

/** The commands a watched approval window has sent so far (see watchApproval). */
export function sentCommands(page) {
  return page.evaluate(() => window.__sent);
}

/** The id of the focused element of `page` (`''` for the body). */
export function focusedId(page) {
  return page.evaluate(() => (document.activeElement === document.body ? '' : document.activeElement?.id ?? ''));
}

/**
 * For a check that something must NOT happen: runs `check` (which asserts) every 50 ms
 * for `ms`, failing at the first miss. Follow it with a positive fence: the thing that
 * was held off, done the allowed way, must then show up.
 */
export async function holdsFor(check, { ms = 1_500, intervalMs = 50 } = {}) {
  const until = Date.now() + ms;
  do {
    await check();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  } while (Date.now() < until);
}

// The wallet UI through the real extension, driven as a person would: clicks, typing and
// keys in the popup and the approval window, never raw commands where the UI has a control.
//   onboarding (core-enforced password policy, strength meter) → keys (add with provider
//   suggestion, base URL rules, test, rename, replace, delete) → an app connects → the
//   approval window (origin, key status, subset, expiry) → the app calls through
//   createFetch → connected sites (edit providers → onProvidersUpdated, revoke →
//   onDisconnect + SESSION_INVALID, only that origin told) → reject / Escape / close →
//   one pending approval per origin → a pending approval survives a worker stop → expiry
//   through the worker's clock → settings (auto-lock, password, backup) → locked state
//   (wrong password, back-off countdown) → keyboard and framing.
// Screenshots of every page, light and dark, go to tests/e2e/output/screenshots/.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { startPagesServer } from './lib/pages-server.mjs';
import {
  approvalPages,
  assertNoKeyInDom,
  badgeText,
  focusedId,
  focusIsVisible,
  holdsFor,
  openPopup,
  pressAndRearm,
  rearmsAfter,
  recordReplies,
  screenshot,
  sentCommands,
  shiftWorkerClock,
  startLocalProvider,
  waitForClose,
  waitForReply,
  watchApproval,
} from './lib/ui.mjs';
import { expectValue } from './lib/wait.mjs';
import { clickThatCloses, openWallet, readApproval, REQUEST_APPROVAL, waitForApproval } from './lib/wallet.mjs';

const PASSWORD = 'plum anvil orbit tulip gravel';
const NEW_PASSWORD = 'quiet lantern mosaic ferry';
const BACKUP_PASSWORD = 'harbour violet cactus rhythm';

const alnum = (n) => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
const key = (prefix, n) => {
  const random = alnum(n);
  return { secret: `${prefix}${random}`, random };
};
const KEYS = {
  anthropic: key('sk-ant-api03-', 48),
  openai: key('sk-proj-', 48),
  rotated: key('sk-proj-', 48),
  local: key('local-', 32),
  localWrong: key('local-', 32),
};
const ALL_KEYS = Object.values(KEYS);
const last4 = (k) => k.secret.slice(-4);

/** Runs `connect` in a web page without awaiting it; resolves with `{ok, providers}` or `{ok:false, code}`. */
function connect(page, providers) {
  return page.evaluate(
    (providers) =>
      window.keyfob.connect({ providers }).then(
        (s) => {
          window.__kf = s;
          window.__events = [];
          s.onDisconnect(() => window.__events.push('disconnect'));
          s.onProvidersUpdated((d) => window.__events.push(`providers:${Object.keys(d ?? {}).sort().join(',')}`));
          return { ok: true, providers: Object.keys(s.providers).sort() };
        },
        (e) => ({ ok: false, code: e?.code }),
      ),
    providers,
  );
}

/** One chat call through `createFetch(provider)`; `{status, code}` (code for wallet errors). */
function call(page, provider, tag) {
  return page.evaluate(
    async ({ provider, tag }) => {
      const f = window.__kf.createFetch(provider);
      const [url, body] =
        provider === 'anthropic'
          ? ['https://api.anthropic.com/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: tag }] }]
          : ['https://api.openai.com/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: tag }] }];
      const res = await f(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      let code = null;
      try {
        code = JSON.parse(text)?.error?.code ?? null;
      } catch {}
      return { status: res.status, code, text };
    },
    { provider, tag },
  );
}

describe('wallet UI', () => {
  let h;
  let popup;
  let wallet; // raw commands, only to check what the UI did
  let local;
  let pageA;
  let pageB;
  let origin;

  /** The key card (list item) with this label. */
  const card = (label) => popup.locator('li.card.key').filter({ has: popup.locator('.key-label', { hasText: new RegExp(`^${label}$`) }) });
  const siteCard = (o) => popup.locator(`li.card.site[data-origin="${o}"]`);
  const tab = async (name) => {
    await popup.getByRole('tab', { name }).click();
    await popup.locator(`[role=tabpanel]:not([hidden]) h2`).first().waitFor();
  };

  before(async () => {
    h = await startHarness();
    local = await startLocalProvider(KEYS.local.secret);
    popup = await openPopup(h.browser);
    wallet = await openWallet(h.browser, { path: 'manifest.json' });
    pageA = await h.newPage('/index.html');
    pageB = await h.newPage('/index.html', h.pages.b);
    origin = { a: h.pages.a.origin, b: h.pages.b.origin };
  });
  after(async () => {
    await local?.close();
    await h?.teardown();
    for (const server of freshServers) await server.close();
  });

  // A rejected origin backs off (APPROVAL_BACKOFF): tests that reject use an origin of their own.
  const freshServers = [];
  /** A page on a new origin (its own static server), never asked before. */
  const freshPage = async () => {
    const server = await startPagesServer();
    freshServers.push(server);
    return h.newPage('/index.html', server);
  };
  /** `page`'s origin was just rejected: its next connect is APPROVAL_BACKOFF, and no window opens. */
  const assertBackedOff = async (page) => {
    const refused = await page.evaluate(() =>
      window.keyfob.connect({ providers: [{ id: 'openai', required: true }] }).then(
        () => ({ ok: true }),
        (e) => ({ code: e?.code, retryAfterMs: e?.retryAfterMs }),
      ),
    );
    assert.equal(refused.code, 'APPROVAL_BACKOFF', JSON.stringify(refused));
    assert.ok(refused.retryAfterMs > 5_000 && refused.retryAfterMs <= 10_000, JSON.stringify(refused));
    assert.equal(approvalPages(h.browser.context).length, 0, 'a backed-off connect opened a window');
  };

  test('before any wallet, a connect opens the approval window on "Set up Keyfob first"; Reject → USER_REJECTED', async () => {
    const page = await freshPage();
    const outcome = connect(page, [{ id: 'openai', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await win.getByRole('heading', { name: 'Set up Keyfob first' }).waitFor();
    await screenshot(win, 'approve-setup');
    await clickThatCloses(win.getByRole('button', { name: 'Reject' }));
    assert.deepEqual(await outcome, { ok: false, code: 'USER_REJECTED' });
    await assertBackedOff(page);
    await page.close();
  });

  test('onboarding: one sentence on what Keyfob protects; the meter and the Create button follow the core policy', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    await popup.getByRole('heading', { name: 'Welcome to Keyfob' }).waitFor();
    const text = await popup.locator('#view-welcome').innerText();
    assert.match(text, /keeps your AI API keys encrypted .* without the sites ever seeing a key/);
    assert.equal(await popup.evaluate(() => document.activeElement?.id), 'create-password', 'the password field has the focus');

    const pw = popup.getByLabel('Choose a master password');
    await pw.fill('Password2024!');
    await popup.locator('.meter-label', { hasText: 'Strength: Too weak' }).waitFor();
    await popup.getByLabel('Type it again').fill('Password2024!');
    await popup.getByRole('button', { name: 'Create wallet' }).click();
    await popup.locator('#create-message', { hasText: 'Choose a stronger password: a common password with digits or symbols added is easy to guess.' }).waitFor();
    assert.equal(await wallet.state(), 'missing', 'a refused password created nothing');
    // The core refuses it too, not only the page.
    assert.equal((await wallet.expectError('vault.create', { password: 'Password2024!' })).code, 'WEAK_PASSWORD');

    await pw.fill(PASSWORD);
    await popup.locator('.meter-label', { hasText: /Strength: (Good|Strong)/ }).waitFor();
    await popup.getByLabel('Type it again').fill(`${PASSWORD}x`);
    await popup.getByRole('button', { name: 'Create wallet' }).click();
    await popup.locator('#create-message', { hasText: 'The two passwords are not the same.' }).waitFor();
    await popup.getByLabel('Type it again').fill(PASSWORD);
    await screenshot(popup, 'popup-welcome');
    await popup.getByLabel('Type it again').press('Enter');
    await popup.getByRole('heading', { name: 'Add your first key' }).waitFor();
    assert.equal(await wallet.state(), 'unlocked');
    await expectValue(() => pw.inputValue(), '', 'the password field was cleared');
  });

  test('first key: a pasted key suggests its provider; it is listed masked (last 4 only) and never put back in the DOM', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    // Scoped: the Keys tab's own add form (same labels) may already be rendered, hidden.
    const first = popup.locator('#view-first-key');
    // Anthropic is the first option: paste an OpenAI key first, so the switch is visible.
    await first.getByLabel('API key').fill(KEYS.openai.secret);
    await first.getByText('Looks like an OpenAI key.').waitFor();
    await expectValue(() => first.getByLabel('Provider').inputValue(), 'openai', 'an OpenAI key suggests OpenAI');
    await first.getByLabel('API key').fill(KEYS.anthropic.secret);
    await first.getByText('Looks like an Anthropic key.').waitFor();
    await expectValue(() => first.getByLabel('Provider').inputValue(), 'anthropic', 'an Anthropic key suggests Anthropic');
    await first.getByLabel('Label (optional)').fill('Personal');
    await screenshot(popup, 'popup-first-key');
    await first.getByRole('button', { name: 'Add key', exact: true }).click();
    await popup.getByRole('tab', { name: 'Keys', selected: true }).waitFor();
    const personal = card('Personal');
    await personal.waitFor();
    assert.equal((await personal.locator('.masked').innerText()).trim(), `…${last4(KEYS.anthropic)}`);
    assert.match(await personal.innerText(), /Added .* · never used/);
    await assertNoKeyInDom(popup, ALL_KEYS, 'popup after adding the first key');

    // A second key through the Keys tab, by keyboard: the toggle, then Enter in the form.
    await popup.getByRole('button', { name: '+ Add key' }).press('Enter');
    const form = popup.locator('#add-key-region');
    await form.getByLabel('Provider').selectOption('openai');
    await form.getByLabel('Label (optional)').fill('Work');
    await form.getByLabel('API key').fill(KEYS.openai.secret);
    await form.getByLabel('API key').press('Enter');
    await card('Work').waitFor();
    assert.deepEqual((await wallet.listCredentials()).map((c) => [c.provider, c.label]), [['anthropic', 'Personal'], ['openai', 'Work']]);
    await assertNoKeyInDom(popup, ALL_KEYS, 'popup after adding a second key');
  });

  test('base URL: the core refuses http to another host and accepts a loopback server, with live feedback', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    await popup.getByRole('button', { name: '+ Add key' }).click();
    const form = popup.locator('#add-key-region');
    await form.getByLabel('Provider').selectOption('openai_compatible');
    const base = form.getByLabel('Base URL');
    await base.fill('http://evil.example/v1');
    await form.getByText(/plain http is only allowed to this machine/).waitFor();
    await form.getByLabel('Label (optional)').fill('Local');
    await form.getByLabel('API key').fill(KEYS.localWrong.secret);
    await form.getByRole('button', { name: 'Add key' }).click();
    await form.locator('[role=alert]', { hasText: /plain http is only allowed/ }).waitFor();
    assert.equal((await wallet.listCredentials()).length, 2, 'nothing was added');

    await base.fill(`${local.baseUrl}/`);
    await form.getByText(`Keys go only to ${local.baseUrl}`, { exact: true }).waitFor();
    await form.getByRole('button', { name: 'Add key' }).click();
    const localCard = card('Local');
    await localCard.waitFor();
    assert.ok((await localCard.innerText()).includes(local.baseUrl));
  });

  test('test key: one read-only call with the real key upstream; only a verdict comes back', async () => {
    const before = h.mock.calls('api.openai.com').length;
    await card('Work').getByRole('button', { name: 'Test' }).click();
    const result = card('Work').locator('.test-result');
    await result.filter({ hasText: 'OpenAI accepted the key: 3 models available.' }).waitFor();
    const calls = h.mock.calls('api.openai.com').slice(before);
    assert.deepEqual(calls.map((c) => `${c.method} ${c.path}`), ['GET /v1/models']);
    assert.equal(calls[0].headers.authorization, `Bearer ${KEYS.openai.secret}`);

    // The local server wants another key: the provider's refusal is reported as such.
    await card('Local').getByRole('button', { name: 'Test' }).click();
    await card('Local').locator('.test-result', { hasText: 'refused this key (HTTP 401)' }).waitFor();
    assert.equal(local.requests.at(-1).url, '/v1/models');
    assert.equal(local.requests.at(-1).headers.authorization, `Bearer ${KEYS.localWrong.secret}`);

    const raw = await wallet.call('credentials.test', { id: (await wallet.listCredentials())[0].id });
    assert.equal(raw.verdict, 'works');
    assert.ok(!JSON.stringify(raw).includes(KEYS.anthropic.random.slice(0, 10)));
    await assertNoKeyInDom(popup, ALL_KEYS, 'popup after key tests');
    await screenshot(popup, 'popup-keys');
  });

  test('replace (rotate), base URL edit, rename and delete with confirmation', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    // Replace the local key with the one the server accepts; the test now passes.
    await card('Local').getByRole('button', { name: 'Replace' }).click();
    const dialog = popup.getByRole('dialog');
    await dialog.getByLabel('New API key').fill(KEYS.local.secret);
    await dialog.getByRole('button', { name: 'Replace key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await card('Local').locator('.masked', { hasText: `…${last4(KEYS.local)}` }).waitFor();
    await card('Local').getByRole('button', { name: 'Test' }).click();
    await card('Local').locator('.test-result', { hasText: 'accepted the key: 1 model available.' }).waitFor();

    // The base URL is checked again on edit.
    await card('Local').getByRole('button', { name: 'Base URL' }).click();
    await popup.getByRole('dialog').getByLabel('Base URL').fill('http://192.168.1.20:8080/v1');
    await popup.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await popup.getByRole('dialog').getByRole('alert').filter({ hasText: /only allowed to this machine/ }).waitFor();
    await popup.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // Rename, with Enter in the dialog.
    await card('Work').getByRole('button', { name: 'Rename' }).click();
    await popup.getByRole('dialog').getByLabel('Label').fill('Work laptop');
    await popup.getByRole('dialog').getByLabel('Label').press('Enter');
    await card('Work laptop').waitFor();

    // Delete: Cancel keeps the key, Escape too; "Delete key" removes it.
    const del = card('Local').getByRole('button', { name: 'Delete' });
    await del.click();
    await popup.getByRole('dialog').getByText(`ending ${last4(KEYS.local)} will be erased`).waitFor();
    await screenshot(popup, 'popup-confirm-delete');
    await popup.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await del.click();
    await popup.keyboard.press('Escape');
    await popup.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal((await wallet.listCredentials()).length, 3, 'Cancel and Escape keep the key');
    await del.click();
    await popup.getByRole('dialog').getByRole('button', { name: 'Delete key' }).click();
    await card('Local').waitFor({ state: 'detached' });
    assert.deepEqual((await wallet.listCredentials()).map((c) => c.label), ['Personal', 'Work laptop']);
  });

  test('an app connects: the approval window shows the full origin and key status; the badge and the popup point to it', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    const outcome = connect(pageA, [{ id: 'openai', required: true }, { id: 'anthropic' }, { id: 'gemini' }]);
    const win = await waitForApproval(h.browser.context);
    const shown = await readApproval(win);
    assert.equal(await win.locator('#site-origin').innerText(), origin.a, 'scheme, host and port, in full');
    assert.deepEqual(shown.providers, [
      { id: 'openai', checked: true },
      { id: 'anthropic', checked: true },
      { id: 'gemini', checked: false },
    ]);
    const rows = await win.locator('.provider-row').allInnerTexts();
    assert.match(rows[0], /OpenAI\s*required[\s\S]*Key stored/);
    assert.match(rows[2], /Google Gemini[\s\S]*No key stored/);
    await assertNoKeyInDom(win, ALL_KEYS, 'approval window');

    // The worker sets the badge once the window is open: poll it.
    await expectValue(() => badgeText(h.browser), '1', 'the badge counts the pending approval');
    await popup.reload();
    const pending = popup.getByRole('region', { name: 'Waiting for your approval' });
    await pending.getByText(origin.a, { exact: true }).waitFor();
    await screenshot(popup, 'popup-pending');
    await recordReplies(popup);
    await pending.getByRole('button', { name: `Review request from ${origin.a}` }).click();
    // Once the worker has answered Review, any window it opened for it is open.
    assert.equal((await waitForReply(popup, 'approvals.focus')).ok, true, 'Review was answered');
    assert.equal(approvalPages(h.browser.context).length, 1, 'Review focuses the same window, it opens no other');

    // Approve a subset (OpenAI only) for 1 hour.
    await win.waitForFunction(() => !document.querySelector('#approve').disabled);
    await screenshot(win, 'approve');
    await win.locator('input[name=provider][value=anthropic]').uncheck();
    await win.getByLabel('Access lasts').selectOption({ label: '1 hour' });
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    assert.deepEqual(await outcome, { ok: true, providers: ['openai'] });
    await expectValue(() => badgeText(h.browser), '', 'the badge is cleared once the request is decided');

    const res = await call(pageA, 'openai', 'ui-approved');
    assert.equal(res.status, 200, res.text);
    const rec = h.mock.calls('api.openai.com').at(-1);
    assert.equal(rec.headers.authorization, `Bearer ${KEYS.openai.secret}`);
    // The key card now says when it was last used.
    await popup.bringToFront();
    await popup.reload();
    await card('Work laptop').getByText(/last used (just now|\d+ minutes? ago)/).waitFor();
    assert.equal((await call(pageA, 'anthropic', 'ui-not-granted')).code, 'PROVIDER_NOT_GRANTED');
  });

  test('connected sites: origin, providers, expiry; editing providers tells that origin only', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    const outcomeB = connect(pageB, [{ id: 'openai', required: true }]);
    const winB = await waitForApproval(h.browser.context);
    await readApproval(winB);
    await winB.getByLabel('Access lasts').selectOption({ label: '1 hour' });
    await clickThatCloses(winB.getByRole('button', { name: 'Approve' }));
    assert.equal((await outcomeB).ok, true);

    await popup.reload();
    await tab('Sites');
    const a = siteCard(origin.a);
    await a.waitFor();
    const text = await a.innerText();
    assert.match(text, /OpenAI/);
    assert.match(text, /Connected .* · Expires in (1 hour|60 minutes|59 minutes)/);

    await a.getByRole('button', { name: `Edit providers for ${origin.a}` }).click();
    const dialog = popup.getByRole('dialog');
    await dialog.getByLabel('Anthropic').check();
    await screenshot(popup, 'popup-edit-providers');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await a.locator('.chip', { hasText: 'Anthropic' }).waitFor();

    await pageA.waitForFunction(() => window.__events.includes('providers:anthropic,openai'));
    assert.deepEqual(await pageA.evaluate(() => Object.keys(window.__kf.providers).sort()), ['anthropic', 'openai']);
    assert.equal((await call(pageA, 'anthropic', 'ui-added-later')).status, 200);
    // A control round trip on B's own port (FIFO) proves any event for B would have arrived.
    await pageB.evaluate(() => window.__kf.getUsage().catch(() => null));
    assert.deepEqual(await pageB.evaluate(() => window.__events), [], 'origin B was not told about A');
    await screenshot(popup, 'popup-sites');
  });

  test('revoke: confirm, then the app gets onDisconnect at once and SESSION_INVALID next; B is untouched', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    await siteCard(origin.a).getByRole('button', { name: `Revoke ${origin.a}` }).click();
    const dialog = popup.getByRole('dialog');
    await dialog.getByText('Its open pages lose access to your keys at once.').waitFor();
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await siteCard(origin.a).waitFor({ state: 'detached' });

    await pageA.waitForFunction(() => window.__events.includes('disconnect'));
    assert.equal(await pageA.evaluate(() => window.__kf.isConnected()), false);
    const after = await call(pageA, 'openai', 'ui-after-revoke');
    assert.deepEqual([after.status, after.code], [401, 'SESSION_INVALID']);

    await pageB.evaluate(() => window.__kf.getUsage().catch(() => null)); // fence on B's port, as above
    assert.deepEqual(await pageB.evaluate(() => window.__events), [], 'B got no event');
    assert.equal((await call(pageB, 'openai', 'ui-b-still')).status, 200);
  });

  test('Reject, Escape and closing the window each → USER_REJECTED, and no grant', async () => {
    const rejected = [];
    for (const how of ['reject', 'escape', 'close']) {
      const page = await freshPage();
      rejected.push(await page.evaluate(() => location.origin));
      const outcome = connect(page, [{ id: 'openai', required: true }]);
      const win = await waitForApproval(h.browser.context);
      await readApproval(win);
      if (how === 'reject') await clickThatCloses(win.getByRole('button', { name: 'Reject' }));
      // Escape closes the window: only the keydown is sent (a keyup would hit a closed page).
      if (how === 'escape') await win.keyboard.down('Escape');
      if (how === 'close') await win.close();
      assert.deepEqual(await outcome, { ok: false, code: 'USER_REJECTED' }, how);
      await assertBackedOff(page);
      await page.close();
    }
    assert.ok(!(await wallet.listGrants()).some((g) => rejected.includes(g.origin)));
  });

  test('Enter never approves a connection: the focus starts on the question, keys disarm Approve, a click approves', async () => {
    const outcome = connect(pageA, [{ id: 'openai', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    await watchApproval(win);
    const approve = win.getByRole('button', { name: 'Approve' });
    const box = win.locator('#provider-openai');
    await expectValue(() => approve.isEnabled(), true, 'Approve arms once the window has been shown for a moment');

    // The attack: the user is typing in the page, and a window appears under the next Enter.
    await pressAndRearm(win, 'Enter');
    assert.equal(await focusedId(win), 'decide-title', 'the focus starts on the question, not on a control');
    // Space then Enter on a provider's checkbox: Space ticks it (and nothing else), Enter submits nothing.
    await box.focus();
    await pressAndRearm(win, 'Space');
    await expectValue(() => box.isChecked(), false, 'Space toggles the checkbox');
    await pressAndRearm(win, 'Enter');
    await pressAndRearm(win, 'Space');
    await expectValue(() => box.isChecked(), true, 'Space toggles it back');
    // Enter in the expiry select and in a text field of the limits.
    await win.getByLabel('Access lasts').focus();
    await pressAndRearm(win, 'Enter');
    await win.locator('#limits > summary').click();
    await win.getByLabel('Ask me above $').focus();
    await pressAndRearm(win, 'Enter');
    assert.equal(await focusedId(win), 'approve-limits-ask', 'the keys went to the field');
    // The window coming back to the front (its focus and visibility events) starts the delay again.
    await rearmsAfter(win, () => win.evaluate(() => window.dispatchEvent(new Event('focus'))));
    await rearmsAfter(win, () => win.evaluate(() => document.dispatchEvent(new Event('visibilitychange'))));

    // Nothing was decided: no command left the window, and no grant exists (polled a while).
    await holdsFor(async () => {
      assert.ok(!(await wallet.listGrants()).some((g) => g.origin === origin.a), 'a key press approved the site');
      const sent = await sentCommands(win);
      assert.ok(!sent.includes('approvals.decide') && !sent.includes('policy.parse'), `the window started a decision: ${sent}`);
    });
    // The fence: the same window, clicked with the pointer, approves.
    await clickThatCloses(approve);
    assert.deepEqual(await outcome, { ok: true, providers: ['openai'] });
    assert.deepEqual((await wallet.listGrants()).find((g) => g.origin === origin.a)?.providers, ['openai'], 'the click approved');
  });

  test('Enter never approves a request above the limit either; a click, or Tab to Approve then Space, does', async () => {
    await wallet.call('grants.setPolicy', { origin: origin.a, policy: { askAboveNanoUsd: 1 } });
    const upstream = (tag) => h.mock.calls('api.openai.com').filter((c) => c.bodyText?.includes(tag)).length;
    try {
      const asked = call(pageA, 'openai', 'ui-ask-enter');
      const win = await waitForApproval(h.browser.context, { path: REQUEST_APPROVAL });
      await win.getByText('gpt-4o-mini').waitFor();
      await watchApproval(win);
      const approve = win.getByRole('button', { name: 'Approve' });
      await expectValue(() => approve.isEnabled(), true, 'Approve arms once the window has been shown for a moment');
      await pressAndRearm(win, 'Enter');
      assert.equal(await focusedId(win), 'request-title', 'the focus starts on the question, not on a button');
      await pressAndRearm(win, 'Space');
      await pressAndRearm(win, 'a');
      await holdsFor(async () => {
        assert.equal(upstream('ui-ask-enter'), 0, 'a key press sent the request');
        const sent = await sentCommands(win);
        assert.ok(!sent.includes('requestApprovals.decide'), `the window sent a decision: ${sent}`);
      });
      await screenshot(win, 'request-approval');
      await clickThatCloses(approve);
      const res = await asked;
      assert.equal(res.status, 200, res.text);
      assert.equal(upstream('ui-ask-enter'), 1, 'the click approved the request');

      // By keyboard: Tab to Approve (the focus is visible there), wait for it to arm, Space.
      const asked2 = call(pageA, 'openai', 'ui-ask-keyboard');
      const win2 = await waitForApproval(h.browser.context, { path: REQUEST_APPROVAL });
      await win2.getByText('gpt-4o-mini').waitFor();
      const approve2 = win2.getByRole('button', { name: 'Approve' });
      await approve2.waitFor({ state: 'visible' });
      for (let i = 0; i < 4 && (await focusedId(win2)) !== 'approve'; i += 1) await win2.keyboard.press('Tab');
      assert.equal(await focusedId(win2), 'approve', 'Tab reaches Approve');
      assert.ok((await focusIsVisible(win2)).ok, 'the focus on Approve is visible');
      await expectValue(() => approve2.isEnabled(), true, 'Approve re-arms after the Tab');
      await win2.keyboard.press('Space');
      const res2 = await asked2;
      assert.equal(res2.status, 200, res2.text);
    } finally {
      // Later tests connect A afresh.
      await wallet.send('grants.revoke', { origin: origin.a });
    }
  });

  test('one pending approval per origin: a second connect → APPROVAL_PENDING, no second window', async () => {
    const page = await freshPage();
    const first = connect(page, [{ id: 'openai', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    const page2 = await h.newPage('/index.html', freshServers.at(-1));
    try {
      assert.deepEqual(await connect(page2, [{ id: 'openai' }]), { ok: false, code: 'APPROVAL_PENDING' });
      // And one window in all: another origin is told to wait too.
      assert.deepEqual(await connect(pageB, [{ id: 'anthropic', required: true }]), { ok: false, code: 'APPROVAL_PENDING' });
    } finally {
      await page2.close();
    }
    assert.equal(approvalPages(h.browser.context).length, 1);
    await expectValue(() => badgeText(h.browser), '1', 'the badge counts one pending approval');
    await clickThatCloses(win.getByRole('button', { name: 'Reject' }));
    assert.equal((await first).code, 'USER_REJECTED');
    await assertBackedOff(page);
    await page.close();
  });

  test('a pending approval survives a service-worker stop: the window still works', async () => {
    const outcome = connect(pageA, [{ id: 'openai', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    await h.browser.stopServiceWorker();
    assert.equal(await h.browser.serviceWorkerStatus(), 'stopped');
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    // The window closes itself once the (restarted) worker has recorded the decision.
    await waitForClose(win, { timeout: 30_000 });
    await h.browser.waitForServiceWorker();
    const grant = (await wallet.listGrants()).find((g) => g.origin === origin.a);
    assert.deepEqual(grant?.providers, ['openai'], 'the approval made after the restart was recorded');
    const result = await Promise.race([outcome, new Promise((r) => setTimeout(() => r({ timedOut: true }), 15_000))]);
    assert.deepEqual(result, { ok: true, providers: ['openai'] }, 'the page’s connect resolved after the restart');
    assert.equal((await call(pageA, 'openai', 'ui-after-restart')).status, 200);
  });

  test('expiry: once the worker clock passes a 1-hour grant, the app gets SESSION_INVALID and Sites says expired', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    // Keep auto-lock out of the way of the clock jump (and check the setting on the way).
    await popup.reload();
    await popup.bringToFront();
    await tab('Settings');
    await popup.getByLabel('Lock after inactivity').selectOption({ label: '24 hours' });
    await popup.getByText('Saved.').waitFor();
    assert.equal((await wallet.status()).autoLockMinutes, 1440);

    assert.equal((await call(pageB, 'openai', 'ui-before-expiry')).status, 200);
    await shiftWorkerClock(h.browser, 61 * 60 * 1000);
    try {
      const res = await call(pageB, 'openai', 'ui-after-expiry');
      // An expired grant is refused like a dead session (GRANT_EXPIRED once metering
      // names the cause; SESSION_INVALID before it).
      assert.equal(res.status, 401, res.text);
      assert.ok(['GRANT_EXPIRED', 'SESSION_INVALID'].includes(res.code), res.text);
      await tab('Sites');
      await siteCard(origin.b).locator('.tag', { hasText: /^Expired / }).waitFor();
      assert.equal(await siteCard(origin.b).getByRole('button', { name: /^Edit providers/ }).count(), 0);
      await screenshot(popup, 'popup-sites-expired');
      await siteCard(origin.b).getByRole('button', { name: `Remove ${origin.b}` }).click();
      await popup.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
      await siteCard(origin.b).waitFor({ state: 'detached' });
    } finally {
      await shiftWorkerClock(h.browser, 0);
      // Leave no grant for B behind, whatever failed above (later tests connect B afresh).
      await wallet.send('grants.revoke', { origin: origin.b });
    }
  });

  test('settings: change the master password, export an encrypted backup, restore it', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    await tab('Settings');
    await popup.getByText('Change master password').click();
    await popup.getByLabel('Current password').fill('not my password');
    await popup.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await popup.getByLabel('Type the new password again').fill(NEW_PASSWORD);
    await popup.getByRole('button', { name: 'Change password' }).click();
    await popup.getByText('That password is not right.').waitFor();
    await popup.getByLabel('Current password').fill(PASSWORD);
    await popup.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await popup.getByLabel('Type the new password again').fill(NEW_PASSWORD);
    await popup.getByRole('button', { name: 'Change password' }).click();
    await popup.getByText('Master password changed.').waitFor();

    await popup.getByText('Export an encrypted backup').click();
    const exportForm = popup.locator('details', { has: popup.getByText('Export an encrypted backup') });
    const master = exportForm.getByLabel('Current master password');
    assert.equal(await master.getAttribute('autocomplete'), 'current-password');
    // A wrong master password exports nothing and says so.
    await master.fill('not my password');
    await exportForm.getByLabel('Backup password').fill(BACKUP_PASSWORD);
    await exportForm.getByRole('button', { name: 'Download backup' }).click();
    await exportForm.getByRole('alert').filter({ hasText: 'That is not your master password.' }).waitFor();
    await expectValue(() => master.inputValue(), '', 'the wrong master password was cleared');
    assert.equal((await wallet.status()).failedAttempts, 1, 'the wrong guess counts toward the unlock back-off');
    await master.fill(NEW_PASSWORD);
    await screenshot(popup, 'popup-settings');
    const download = popup.waitForEvent('download');
    await exportForm.getByRole('button', { name: 'Download backup' }).click();
    const file = await download;
    assert.match(file.suggestedFilename(), /^keyfob-backup-\d{4}-\d{2}-\d{2}\.kfob$/);
    const path = await file.path();
    const bytes = await readFile(path);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'KFOB');
    for (const k of ALL_KEYS) assert.ok(!bytes.toString('latin1').includes(k.random.slice(0, 12)), 'the backup is encrypted');
    await expectValue(() => master.inputValue(), '', 'the master password was cleared');
    assert.equal((await wallet.status()).failedAttempts, 0, 'the right password took the count back');

    const [personal] = await wallet.listCredentials();
    await wallet.removeCredential(personal.id);
    await popup.reload();
    await popup.bringToFront();
    await tab('Settings');
    await popup.getByText('Restore from a backup').click();
    await popup.getByLabel('Backup file').setInputFiles(path);
    await popup.getByLabel('Backup password').last().fill('wrong backup password');
    await popup.getByRole('button', { name: 'Restore' }).click();
    await popup.getByText('That password is not right.').waitFor();
    await popup.getByLabel('Backup password').last().fill(BACKUP_PASSWORD);
    await popup.getByRole('button', { name: 'Restore' }).click();
    await popup.getByText('Restored 2 keys.').first().waitFor();
    assert.ok((await wallet.listCredentials()).some((c) => c.id === personal.id), 'the deleted key is back');
  });

  test('locked: a clear wrong-password message, tries left, then a back-off countdown with Unlock disabled', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    await popup.getByRole('button', { name: 'Lock', exact: true }).click();
    await popup.getByRole('heading', { name: 'Keyfob is locked' }).waitFor();
    await screenshot(popup, 'popup-locked');
    const pw = popup.getByLabel('Master password', { exact: true });
    const unlock = popup.getByRole('button', { name: 'Unlock' });
    for (let i = 1; i <= 5; i += 1) {
      await pw.fill(`wrong password ${i}`);
      await unlock.click();
      if (i === 3) await popup.getByText('That password is not right. 2 more tries before Keyfob makes you wait.').waitFor();
      if (i < 5) await popup.getByRole('alert').filter({ hasText: 'That password is not right.' }).waitFor();
    }
    await popup.getByRole('timer').filter({ hasText: /^Try again in 0:[0-3]\d$/ }).waitFor();
    await expectValue(() => unlock.isDisabled(), true, 'Unlock is disabled during the back-off');
    await expectValue(() => pw.isDisabled(), true, 'the password field is disabled during the back-off');
    await screenshot(popup, 'popup-locked-backoff');

    // The countdown survives reopening the popup (the back-off lives in the core's state).
    await popup.reload();
    await popup.getByRole('timer').filter({ hasText: /^Try again in / }).waitFor();

    // Move the last failure into the past instead of waiting.
    await h.browser.serviceWorker.evaluate(async () => {
      const { unlockThrottle } = await chrome.storage.local.get('unlockThrottle');
      const t = JSON.parse(unlockThrottle);
      t.lastFailureMs -= 60 * 60 * 1000;
      await chrome.storage.local.set({ unlockThrottle: JSON.stringify(t) });
    });
    await h.browser.stopServiceWorker();
    await popup.reload();
    await pw.fill(NEW_PASSWORD);
    await unlock.click();
    await popup.getByRole('tab', { name: 'Keys' }).waitFor();
    assert.equal((await wallet.status()).failedAttempts, 0);
  });

  test('approval while locked: the window asks to unlock first, then shows the choice', async () => {
    await wallet.lock();
    const outcome = connect(pageA, [{ id: 'anthropic', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await win.getByRole('heading', { name: 'Unlock Keyfob to answer this request' }).waitFor();
    assert.equal(await win.locator('#site-origin').innerText(), origin.a, 'the origin shows before unlocking');
    await screenshot(win, 'approve-locked');
    await win.getByLabel('Master password').fill('still not it');
    await win.getByRole('button', { name: 'Unlock' }).click();
    await win.getByText('That password is not right.').waitFor();
    await win.getByLabel('Master password').fill(NEW_PASSWORD);
    await win.getByRole('button', { name: 'Unlock' }).click();
    await win.locator('input[name=provider][value=anthropic]').waitFor();
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    assert.equal((await outcome).ok, true);
  });

  test('a missing key can be added from the approval window, and the window never shows it again', async () => {
    const outcome = connect(pageA, [{ id: 'gemini', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    assert.equal(await win.locator('input[name=provider][value=gemini]').isChecked(), false);
    await win.getByText('The site needs Google Gemini').waitFor();
    await win.getByRole('button', { name: 'Add a key for Google Gemini' }).click();
    const gemini = key('AIza', 35);
    await win.getByLabel('API key').fill(gemini.secret);
    await screenshot(win, 'approve-add-key');
    await win.getByLabel('API key').press('Enter');
    // Exact: a substring match would also find "No key stored", shown before the key is added.
    const geminiRow = win.locator('.provider-row', { hasText: 'Google Gemini' });
    await geminiRow.getByText('Key stored', { exact: true }).waitFor();
    assert.equal(await geminiRow.getByText('No key stored').count(), 0, 'the row still says no key is stored');
    await expectValue(() => win.locator('input[name=provider][value=gemini]').isChecked(), true, 'the added provider is ticked');
    await assertNoKeyInDom(win, [...ALL_KEYS, gemini], 'approval window after adding a key');
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    assert.deepEqual((await outcome).providers, ['anthropic', 'gemini', 'openai']);
  });

  test('keyboard: tabs follow arrow keys, focus is always visible, dialogs trap focus and Escape returns it', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    await popup.reload();
    const keysTab = popup.getByRole('tab', { name: 'Keys' });
    await keysTab.focus();
    await popup.keyboard.press('ArrowRight');
    await popup.getByRole('tab', { name: 'Sites', selected: true }).waitFor();
    await expectValue(() => popup.evaluate(() => document.activeElement?.id), 'tab-sites', 'the selected tab has the focus');
    await popup.keyboard.press('ArrowRight');
    await popup.getByRole('tab', { name: 'Activity', selected: true }).waitFor();
    await popup.keyboard.press('ArrowRight');
    await popup.getByRole('tab', { name: 'Settings', selected: true }).waitFor();
    await popup.keyboard.press('ArrowRight');
    await popup.getByRole('tab', { name: 'Keys', selected: true }).waitFor();

    // Tab through the Keys panel: every stop shows a focus ring, and every button is reachable.
    const seen = [];
    for (let i = 0; i < 9; i += 1) {
      await popup.keyboard.press('Tab');
      const focus = await focusIsVisible(popup);
      assert.ok(focus.ok, `no visible focus on ${focus.what}`);
      seen.push(focus.what);
    }
    for (const name of ['Test', 'Rename', 'Replace', 'Delete']) {
      assert.ok(seen.some((s) => s.includes(`"${name}`)), `${name} is reachable by Tab (${seen.join(', ')})`);
    }

    // A dialog opened with Enter holds the focus; Escape closes it and gives the focus back.
    const del = card('Work laptop').getByRole('button', { name: 'Delete' });
    await del.focus();
    await popup.keyboard.press('Enter');
    await popup.getByRole('dialog').waitFor();
    const focused = () => popup.evaluate(() => document.activeElement?.textContent);
    await expectValue(focused, 'Cancel', 'the safe choice has the focus');
    await popup.keyboard.press('Tab');
    await expectValue(focused, 'Delete key', 'Tab moves to the next button');
    assert.ok(await popup.evaluate(() => document.querySelector('dialog[open]')?.contains(document.activeElement)), 'focus stays in the dialog');
    await popup.keyboard.press('Escape');
    await popup.getByRole('dialog').waitFor({ state: 'detached' });
    await expectValue(
      () => popup.evaluate(() => document.activeElement?.closest('li')?.querySelector('.key-label')?.textContent),
      'Work laptop',
      'Escape gives the focus back to the card it came from',
    );
    assert.equal((await wallet.listCredentials()).length, 3);

    // The approval window: Tab reaches Approve; once it re-arms after the last Tab, Enter approves.
    const outcome = connect(pageB, [{ id: 'openai', required: true }]);
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    const approve = win.getByRole('button', { name: 'Approve' });
    await approve.waitFor({ state: 'visible' });
    for (let i = 0; i < 8 && !(await approve.evaluate((b) => b === document.activeElement)); i += 1) await win.keyboard.press('Tab');
    assert.equal(await focusedId(win), 'approve', 'Tab reaches Approve');
    assert.ok((await focusIsVisible(win)).ok);
    await expectValue(() => approve.isEnabled(), true, 'Approve re-arms after the last Tab');
    // Enter approves and the window closes: only the keydown is sent (a keyup would hit a closed page).
    await win.keyboard.down('Enter');
    assert.equal((await outcome).ok, true);
  });

  test('every page has a title, labelled fields and named buttons', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    for (const page of [popup]) {
      const unnamed = await page.evaluate(() => {
        const out = [];
        for (const el of document.querySelectorAll('input, select, button')) {
          if (el.closest('[hidden]') || el.type === 'hidden') continue;
          const name = el.labels?.[0]?.textContent || el.getAttribute('aria-label') || el.textContent;
          if (!String(name ?? '').trim()) out.push(el.outerHTML.slice(0, 80));
        }
        return out;
      });
      assert.deepEqual(unnamed, []);
    }
    assert.equal(await popup.title(), 'Keyfob');
    assert.equal(await popup.locator('html').getAttribute('lang'), 'en');
  });

  test('extension pages cannot be framed (frame-ancestors none), and a stale approval says so', async () => {
    await popup.bringToFront(); // a background tab's animation frames are throttled
    // Inspected at the frame's load event: a blocked frame loads an error page instead, and
    // the approval page, had it loaded, would have its #decide form (static markup) by then.
    // No fallback timer: reading the frame before it loaded would see its empty about:blank.
    const framed = await popup.evaluate(
      () =>
        new Promise((resolve) => {
          const frame = document.createElement('iframe');
          frame.src = chrome.runtime.getURL('approve/approve.html?id=x');
          frame.onload = () => {
            let doc = null;
            try {
              doc = frame.contentDocument;
            } catch {}
            resolve({ readable: Boolean(doc), url: doc?.URL ?? null, hasApproval: Boolean(doc?.querySelector('#decide')) });
            frame.remove();
          };
          document.body.append(frame);
        }),
    );
    assert.equal(framed.hasApproval, false, `the approval page rendered inside a frame: ${JSON.stringify(framed)}`);

    const stale = await h.browser.openExtensionPage('approve/approve.html?id=apr_gone');
    await stale.getByRole('heading', { name: 'This request is no longer waiting' }).waitFor();
    await screenshot(stale, 'approve-gone');
    await stale.close();
  });
});

// Drives the wallet the way the popup does: `chrome.runtime.sendMessage({cmd, ...args})` from an
// extension page. Replies are `{ok: true, value}` or `{ok: false, error: {code, message}}`.
// Also drives the approval window that `keyfob.connect()` opens.

/** A wallet command that answered `{ok: false}`; `code` is the wallet's stable error code. */
export class WalletError extends Error {
  constructor(cmd, error) {
    super(`${cmd} failed: ${error?.code ?? 'NO_CODE'}: ${error?.message ?? JSON.stringify(error)}`);
    this.name = 'WalletError';
    this.cmd = cmd;
    this.code = error?.code;
    this.error = error;
  }
}

/**
 * Opens an extension page (the popup by default) and returns a wallet client over it.
 * `browser` is what launchWithExtension returned.
 */
export async function openWallet(browser, { path = 'popup/popup.html' } = {}) {
  const page = await browser.openExtensionPage(path);
  return new Wallet(page);
}

export class Wallet {
  constructor(page) {
    this.page = page;
  }

  /** Sends one command; returns the raw reply object, whatever it is. */
  async send(cmd, args = {}) {
    return this.page.evaluate(
      async (message) => {
        try {
          return await chrome.runtime.sendMessage(message);
        } catch (error) {
          return { ok: false, error: { code: 'SEND_FAILED', message: String(error?.message ?? error) }, sendFailed: true };
        }
      },
      { cmd, ...args },
    );
  }

  /** Sends one command; returns `value`, or throws a WalletError carrying the error code. */
  async call(cmd, args = {}) {
    const reply = await this.send(cmd, args);
    if (!reply || typeof reply !== 'object' || typeof reply.ok !== 'boolean') {
      throw new WalletError(cmd, { code: 'BAD_REPLY', message: `reply has no boolean ok: ${JSON.stringify(reply)}` });
    }
    if (!reply.ok) throw new WalletError(cmd, reply.error);
    return reply.value;
  }

  /** Waits until the worker reports every change stored (`vault.status` → `unsaved: false`),
   * so a test can stop the worker without racing the coalesced writes. */
  async waitForSaved({ timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.call('vault.status');
      if (status.unsaved === false) return status;
      if (Date.now() > deadline) throw new Error(`changes still unsaved after ${timeoutMs} ms: ${JSON.stringify(status)}`);
      await this.page.waitForTimeout(50);
    }
  }

  /** Sends one command that must fail; returns its error `{code, message}`. */
  async expectError(cmd, args = {}) {
    const reply = await this.send(cmd, args);
    if (reply?.ok !== false) throw new Error(`${cmd} was expected to fail but answered ${JSON.stringify(reply)}`);
    return reply.error;
  }

  status() {
    return this.call('vault.status');
  }
  async state() {
    return (await this.status()).state;
  }
  create(password) {
    return this.call('vault.create', { password });
  }
  unlock(password) {
    return this.call('vault.unlock', { password });
  }
  lock() {
    return this.call('vault.lock');
  }
  changePassword(oldPassword, newPassword) {
    return this.call('vault.changePassword', { oldPassword, newPassword });
  }
  listCredentials() {
    return this.call('credentials.list');
  }
  /** `{provider, label, secret, baseUrl?}` → `{id}` */
  addCredential(credential) {
    return this.call('credentials.add', credential);
  }
  removeCredential(id) {
    return this.call('credentials.remove', { id });
  }
  listGrants() {
    return this.call('grants.list');
  }
  revokeGrant(origin) {
    return this.call('grants.revoke', { origin });
  }
  decideApproval(id, approve, providers = []) {
    return this.call('approvals.decide', { id, approve, providers });
  }

  async close() {
    await this.page.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The approval window

const handled = new WeakSet();

/** The connect approval window; the per-request one ("ask me above $X") is `REQUEST_APPROVAL`. */
export const CONNECT_APPROVAL = '/approve/approve.html';
export const REQUEST_APPROVAL = '/approve/request.html';

function isApprovalPage(page, path) {
  try {
    const u = new URL(page.url());
    return u.protocol === 'chrome-extension:' && u.pathname === path;
  } catch {
    return false;
  }
}

/**
 * Resolves with the next approval window not yet handled by these helpers: one already open,
 * or the next one to open. Start waiting before the page calls `connect()` when you can.
 * `path: REQUEST_APPROVAL` waits for a per-request approval window instead.
 */
export async function waitForApproval(context, { timeout = 15_000, path = CONNECT_APPROVAL } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    // A window opened with chrome.windows.create may show about:blank for a moment: poll urls.
    const open = context.pages().find((p) => !p.isClosed() && !handled.has(p) && isApprovalPage(p, path));
    if (open) {
      handled.add(open);
      await open.waitForLoadState('domcontentloaded');
      return open;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no approval window (${path.slice(1)}) opened within ${timeout} ms`);
    await context.waitForEvent('page', { timeout: Math.min(left, 250) }).catch(() => null);
  }
}

/** What the approval window shows: `{origin, requestId, providers: [{id, checked}], text}`. */
export async function readApproval(page) {
  await page.locator('input[type=checkbox][name=provider]').first().waitFor({ state: 'visible' });
  const providers = await page.locator('input[type=checkbox][name=provider]').evaluateAll((els) =>
    els.map((el) => ({ id: el.value, checked: el.checked })),
  );
  const text = await page.locator('body').innerText();
  return { requestId: new URL(page.url()).searchParams.get('id'), providers, text };
}

/** If the window shows the unlock form, unlocks it with `password` (required then). */
async function unlockIfAsked(page, password) {
  const pw = page.locator('input[type=password]:visible');
  const boxes = page.locator('input[type=checkbox][name=provider]');
  // Wait until the window shows either the unlock form or the provider choice (hidden
  // elements of the other state may be in the DOM: only visible ones count).
  await page.locator('input[type=password]:visible, input[type=checkbox][name=provider]:visible').first().waitFor({ state: 'visible' });
  if ((await pw.count()) === 0) return false;
  if (password === undefined) throw new Error('the approval window asks to unlock, but no password was given');
  await pw.first().fill(password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await boxes.first().waitFor({ state: 'visible' });
  return true;
}

/**
 * Waits for the next approval window and approves it with exactly `providers` checked
 * (all offered ones left as shown when `providers` is omitted). Unlocks first with `password`
 * if the window asks. Returns what the window showed.
 */
export async function approveNext(context, { providers, password, timeout } = {}) {
  const page = await waitForApproval(context, { timeout });
  const unlocked = await unlockIfAsked(page, password);
  const shown = await readApproval(page);
  if (providers) {
    const offered = shown.providers.map((p) => p.id);
    const missing = providers.filter((p) => !offered.includes(p));
    if (missing.length) throw new Error(`approval window does not offer ${missing.join(', ')} (offers ${offered.join(', ')})`);
    for (const p of offered) {
      await page.locator(`input[type=checkbox][name=provider][value="${p}"]`).setChecked(providers.includes(p));
    }
  }
  await clickThatCloses(page.getByRole('button', { name: 'Approve' }));
  return { ...shown, unlocked, page };
}

/**
 * Waits for the next approval window and rejects it. With `password` it unlocks first when
 * asked; without, it presses Reject on whatever the window shows. Returns what it showed.
 */
export async function rejectNext(context, { password, timeout } = {}) {
  const page = await waitForApproval(context, { timeout });
  const reject = page.getByRole('button', { name: 'Reject' });
  let unlocked = false;
  if (password !== undefined) unlocked = await unlockIfAsked(page, password);
  await reject.waitFor({ state: 'visible' });
  const text = await page.locator('body').innerText();
  const providers = await page.locator('input[type=checkbox][name=provider]').evaluateAll((els) =>
    els.map((el) => ({ id: el.value, checked: el.checked })),
  );
  await clickThatCloses(reject);
  return { requestId: new URL(page.url()).searchParams.get('id'), providers, text, unlocked, page };
}

/**
 * Clicks a decision button of an approval window. The decision closes the window, and
 * under load the close can land before Playwright's click returns: a closed window is
 * the expected outcome then, and callers check the decision's effect afterwards.
 */
export async function clickThatCloses(button) {
  const page = button.page();
  try {
    await button.click();
  } catch (error) {
    if (!page.isClosed()) throw error;
  }
}

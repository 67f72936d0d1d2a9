// The metering screens through the real extension, driven as a person would: limits set in
// the approval window's "Limits" disclosure, then a site's usage in the Sites tab (totals
// equal to usage.get, a 30-day chart, budget bars), the "Edit limits" dialog (saved policy,
// a budget that then refuses the next request with 402 BUDGET_EXCEEDED), and the Activity
// tab (rows, filters, JSON/CSV export). Screenshots light/dark go to tests/e2e/output/screenshots/.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { openPopup, screenshot, waitForClose } from './lib/ui.mjs';
import { clickThatCloses, openWallet, readApproval, waitForApproval } from './lib/wallet.mjs';

const PASSWORD = 'copper meadow lantern swift';
const OPENAI_KEY = `sk-proj-uimeter${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

/** The same wording as the popup (en-US), written out independently. */
function usd(value) {
  if (value === 0) return '$0.00';
  const options = value >= 1
    ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
    : value >= 0.01
      ? { minimumFractionDigits: 2, maximumFractionDigits: 4 }
      : { maximumSignificantDigits: 2 };
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', ...options }).format(value);
}
const count = (n) => n.toLocaleString('en-US');

describe('wallet UI: usage, limits and activity', () => {
  let h;
  let popup;
  let wallet; // raw commands, only to check what the UI did
  let page;
  let origin;

  const siteCard = () => popup.locator(`li.card.site[data-origin="${origin}"]`);
  const tab = async (name) => {
    await popup.getByRole('tab', { name }).click();
    await popup.locator('[role=tabpanel]:not([hidden]) h2').first().waitFor();
  };
  /** One chat call through createFetch: `{status, code}`. */
  const chat = (model, headers = {}, query = '') =>
    page.evaluate(
      async ({ model, headers, query }) => {
        const f = window.__kf.createFetch('openai');
        const res = await f(`https://api.openai.com/v1/chat/completions${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'meter me' }] }),
        });
        const text = await res.text();
        let code = null;
        try {
          code = JSON.parse(text)?.error?.code ?? null;
        } catch {}
        return { status: res.status, code };
      },
      { model, headers, query },
    );
  const upstream = () => h.mock.requests.filter((r) => r.host === 'api.openai.com').length;

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser, { path: 'manifest.json' });
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'meter', secret: OPENAI_KEY });
    popup = await openPopup(h.browser);
    page = await h.newPage('/index.html');
    origin = h.pages.a.origin;
  });
  after(async () => {
    await h?.teardown();
  });

  test('approval window: the Limits disclosure is collapsed, and limits set there apply after Approve', async () => {
    const connected = page.evaluate(() =>
      window.keyfob.connect({ providers: ['openai'] }).then(
        (s) => {
          window.__kf = s;
          return true;
        },
        (e) => e?.code,
      ),
    );
    const win = await waitForApproval(h.browser.context);
    await readApproval(win);
    const summary = win.locator('#limits > summary');
    assert.match(await summary.innerText(), /^Limits/);
    assert.equal(await win.locator('#limits').evaluate((d) => d.open), false, 'collapsed by default');
    assert.equal(await win.getByLabel('Allowed models').isVisible(), false);

    await summary.click();
    await win.getByLabel('Allowed models').fill('gpt-4o-mini\ngpt-5*');
    await win.getByRole('checkbox', { name: 'Batch jobs' }).check();
    await win.getByRole('button', { name: 'Add a budget' }).click();
    await win.getByLabel('Budget', { exact: true }).selectOption({ label: 'Per month' });
    await win.getByLabel('Max USD').fill('5');
    await screenshot(win, 'approve-limits');
    // A limit with nothing in it is caught before the site is approved.
    await win.getByLabel('Max USD').fill('');
    await win.waitForFunction(() => document.querySelector('#approve').getAttribute('aria-disabled') !== 'true');
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    await win.getByText('Give each budget a token or USD limit, or remove it.').waitFor();
    assert.equal((await wallet.call('grants.list')).length, 0, 'nothing was approved');
    await win.getByLabel('Max USD').fill('5');
    await clickThatCloses(win.getByRole('button', { name: 'Approve' }));
    assert.equal(await connected, true);
    // The window applies the limits after the approval (the page is connected by then) and
    // closes itself once they are saved: wait for that before reading the grant.
    await waitForClose(win);

    const [grant] = await wallet.call('grants.list');
    assert.equal(grant.origin, origin);
    assert.deepEqual(grant.policy.models, { exact: ['gpt-4o-mini'], prefixes: ['gpt-5'] });
    assert.deepEqual(grant.policy.surfaces, ['batches']);
    assert.deepEqual(grant.policy.budgets, [{ period: 'month', maxCostNanoUsd: 5_000_000_000 }]);
    assert.equal(grant.policy.askAboveNanoUsd, undefined);

    // The allow-list set there is enforced.
    assert.equal((await chat('gpt-4o-mini')).status, 200);
    assert.equal((await chat('gpt-4o-mini', { 'x-keyfob-reason': 'summarise the inbox' })).status, 200);
    assert.equal((await chat('gpt-5-nano')).status, 200);
    const refused = await chat('gpt-4o');
    assert.deepEqual(refused, { status: 403, code: 'MODEL_NOT_ALLOWED' });
    // A provider error, for the Activity tab's "Errors only".
    assert.equal((await chat('gpt-4o-mini', {}, '?mock=500')).status, 500);
  });

  test('Sites: the usage line equals usage.get, the chart has 30 days, budgets are progress bars', async () => {
    await popup.bringToFront();
    await popup.reload();
    await tab('Sites');
    const card = siteCard();
    await card.waitFor();
    const [usage] = await wallet.call('usage.get', { origin });
    const s = usage.summary;
    assert.ok(s.requests >= 3 && s.inputTokens > 0 && s.costUsd > 0, JSON.stringify(s));
    const tokens = s.inputTokens + s.outputTokens;
    assert.equal(await card.locator('.usage-line').innerText(), `${count(s.requests)} requests · ${count(tokens)} tokens · ${usd(s.costUsd)}${s.unpricedRequests ? ` (${s.unpricedRequests} unpriced)` : ''}`);

    const chart = card.getByRole('img', { name: /^Last 30 days:/ });
    assert.match(await chart.getAttribute('aria-label'), new RegExp(`^Last 30 days: ${count(tokens)} tokens`));
    assert.equal(usage.daily.length, 30);
    assert.equal(await chart.locator('rect.chart-bar').count(), 30);
    const today = usage.daily.at(-1);
    const last = chart.locator('rect.chart-bar').last();
    assert.equal(await last.getAttribute('data-date'), today.date);
    assert.ok(Number(await last.getAttribute('height')) > 0, 'today has a bar');
    assert.equal(Number(await chart.locator('rect.chart-bar').first().getAttribute('height')), 0, '29 days ago is empty');

    const bar = card.getByRole('progressbar', { name: 'This month: cost' });
    const status = usage.budgets.find((b) => b.limit.period === 'month');
    assert.equal(Number(await bar.getAttribute('aria-valuemax')), 5);
    assert.equal(Number(await bar.getAttribute('aria-valuenow')), status.spent.costNanoUsd / 1e9);
    assert.equal(await bar.getAttribute('aria-valuetext'), `${usd(status.spent.costNanoUsd / 1e9)} of $5.00`);
    await card.getByText(`${usd(status.spent.costNanoUsd / 1e9)} of $5.00`).waitFor();
    assert.match(await card.locator('.limits-summary').innerText(), /Per month: \$5\.00 · Only gpt-4o-mini, gpt-5\* · Batch jobs/);
    await screenshot(popup, 'popup-sites-usage');
  });

  test('Edit limits: the dialog saves the policy, and its token budget refuses the next request (402)', async () => {
    await popup.bringToFront();
    const card = siteCard();
    await card.getByRole('button', { name: `Edit limits for ${origin}` }).click();
    const dialog = popup.getByRole('dialog', { name: 'Limits for this site' });
    await dialog.waitFor();
    // What the approval window set is shown.
    assert.equal(await dialog.getByLabel('Allowed models').inputValue(), 'gpt-4o-mini\ngpt-5*');
    assert.equal(await dialog.getByRole('checkbox', { name: 'Batch jobs' }).isChecked(), true);
    assert.equal(await dialog.getByLabel('Max USD').inputValue(), '5');

    // Invalid input is refused in place, with the dialog still open.
    await dialog.getByLabel('Allowed models').fill('gpt-*-mini');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Put * only at the end of a line.').waitFor();

    const [before] = await wallet.call('usage.get', { origin });
    const spent = before.summary.inputTokens + before.summary.outputTokens;
    await dialog.getByLabel('Allowed models').fill('gpt-4o-mini');
    await dialog.getByRole('checkbox', { name: 'Batch jobs' }).uncheck();
    await dialog.getByRole('checkbox', { name: 'Files and uploads' }).check();
    await dialog.getByRole('button', { name: 'Add a budget' }).click();
    const rows = dialog.locator('.budget-row');
    assert.equal(await rows.count(), 2);
    assert.equal(await rows.nth(1).getByLabel('Budget', { exact: true }).inputValue(), 'day', 'a new budget takes a free period');
    await rows.nth(1).getByLabel('Max tokens').fill(String(spent));
    await dialog.getByLabel('Ask me above $').fill('0.50');
    await screenshot(popup, 'popup-edit-limits');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });

    const [grant] = await wallet.call('grants.list');
    assert.deepEqual(grant.policy, {
      models: { exact: ['gpt-4o-mini'], prefixes: [] },
      surfaces: ['files'],
      budgets: [{ period: 'month', maxCostNanoUsd: 5_000_000_000 }, { period: 'day', maxTokens: spent }],
      askAboveNanoUsd: 500_000_000,
    });
    const bar = siteCard().getByRole('progressbar', { name: 'Today: tokens' });
    await bar.waitFor();
    assert.equal(Number(await bar.getAttribute('aria-valuenow')), spent);
    assert.equal(Number(await bar.getAttribute('aria-valuemax')), spent);
    await siteCard().getByText(`${count(spent)} of ${count(spent)} tokens`).waitFor();

    const sent = upstream();
    assert.deepEqual(await chat('gpt-4o-mini'), { status: 402, code: 'BUDGET_EXCEEDED' });
    assert.equal(upstream(), sent, 'a refused request reached the provider');
  });

  test('Activity: every request with its details, filters, and JSON / CSV export', async () => {
    await popup.bringToFront();
    await tab('Activity');
    const panel = popup.getByRole('tabpanel', { name: 'Activity' });
    const { records, total } = await wallet.call('audit.list', { limit: 500 });
    assert.ok(total >= 4, `audit has the requests: ${total}`);
    await panel.getByRole('status').filter({ hasText: `${total} requests` }).waitFor();
    const rows = panel.locator('li.audit-row');
    assert.equal(await rows.count(), total);

    // Newest first: the request the budget refused (Keyfob logs its refusals too), then
    // the provider's 500.
    const newest = await rows.first().innerText();
    assert.match(newest, /^402 BUDGET_EXCEEDED\b/);
    assert.match(newest, /gpt-4o-mini/);
    const failed = await rows.nth(records.findIndex((r) => r.status === 500)).innerText();
    assert.match(failed, /^500\b/);
    assert.match(failed, /gpt-4o-mini/);
    assert.match(failed, new RegExp(origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(failed, /OpenAI/);
    assert.match(failed, /\/v1\/chat\/completions/);
    const ok = records.find((r) => r.status === 200 && r.model === 'gpt-4o-mini');
    const okRow = rows.nth(records.indexOf(ok));
    const okText = await okRow.innerText();
    assert.match(okText, new RegExp(`${count(ok.usage.inputTokens + ok.usage.outputTokens)} tokens · ${usd(ok.costNanoUsd / 1e9).replace('$', '\\$')} · (\\d+ ms|\\d+\\.\\d s)`));

    await panel.getByRole('checkbox', { name: 'Errors only' }).check();
    const errorCount = records.filter((r) => r.status === 0 || r.status >= 400 || r.errorCode).length;
    await panel.getByRole('status').filter({ hasText: new RegExp(`^${errorCount} requests?$`) }).waitFor();
    const errors = await rows.allInnerTexts();
    assert.equal(errors.length, errorCount);
    assert.ok(errors.every((t) => /^(0|No response|[45]\d\d)\b/.test(t)), errors.join('\n'));
    assert.ok(errors.some((t) => t.includes('gpt-4o-mini')), errors.join('\n'));
    await panel.getByRole('checkbox', { name: 'Errors only' }).uncheck();

    await panel.getByRole('searchbox', { name: 'Search' }).fill('inbox');
    await panel.getByRole('status').filter({ hasText: /^1 request$/ }).waitFor();
    assert.match(await rows.first().innerText(), /Reason: summarise the inbox/);
    await screenshot(popup, 'popup-activity-filtered');
    await panel.getByRole('searchbox', { name: 'Search' }).fill('');
    await panel.getByRole('status').filter({ hasText: `${total} requests` }).waitFor();
    await panel.getByLabel('Site').selectOption(origin);
    await panel.getByRole('status').filter({ hasText: `${total} requests` }).waitFor();
    await screenshot(popup, 'popup-activity');

    const csvDownload = popup.waitForEvent('download');
    await panel.getByRole('button', { name: 'Export CSV' }).click();
    const csvFile = await csvDownload;
    assert.equal(csvFile.suggestedFilename(), 'keyfob-audit.csv');
    const csv = (await readFile(await csvFile.path(), 'utf8')).trim().split(/\r?\n/);
    assert.match(csv[0], /origin/i, `a header row: ${csv[0]}`);
    assert.match(csv[0], /status/i);
    assert.equal(csv.length, total + 1, 'one line per request plus the header');

    const jsonDownload = popup.waitForEvent('download');
    await panel.getByRole('button', { name: 'Export JSON' }).click();
    const jsonFile = await jsonDownload;
    assert.equal(jsonFile.suggestedFilename(), 'keyfob-audit.json');
    const json = JSON.parse(await readFile(await jsonFile.path(), 'utf8'));
    assert.ok(JSON.stringify(json).includes('summarise the inbox'));
  });
});

// Routes in the wallet UI, driven as a person would, through the real extension:
//   - an app asks for Anthropic and the user has only an OpenAI key: the approval window
//     offers to serve Anthropic's calls with OpenAI (nothing chosen until the user picks),
//     the user picks a model, approves, and the app's official Anthropic SDK is answered
//     by OpenAI with that model; its model list (no Anthropic key) is written by the wallet;
//   - the site's card in the Sites tab shows the route; "Edit routes" changes its model
//     rules (a bad model name is refused in place), and removing the route makes the same
//     call fail as PROVIDER_KEY_MISSING (there is no Anthropic key), with nothing sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { PROVIDER_HOSTS, replyText } from './lib/mock-providers.mjs';
import { openPopup, screenshot } from './lib/ui.mjs';
import { expectValue, waitFor } from './lib/wait.mjs';
import { clickThatCloses, openWallet, waitForApproval } from './lib/wallet.mjs';

const PASSWORD = 'e2e route UI wallet: cobalt harbour 4 meadow';
const RUN = Math.random().toString(36).slice(2, 10);
const OPENAI_KEY = `sk-proj-uiroute${RUN}${'q'.repeat(40)}`;
const prompt = (tag) => `${tag}-${RUN} routed from the UI`;

describe('wallet UI: routes', () => {
  let h;
  let wallet; // raw commands, only to check what the UI did
  let page;
  let popup;
  let origin;

  const openaiCalls = (tag) => h.mock.calls(PROVIDER_HOSTS.openai).filter((r) => r.bodyText?.includes(`${tag}-${RUN}`));
  const siteCard = () => popup.locator(`li.card.site[data-origin="${origin}"]`);
  const routesOf = async () => (await wallet.call('grants.list')).find((g) => g.origin === origin)?.routes;
  /** One Anthropic SDK call from the page: its text and model, or the error's status and code. */
  const ask = (text) =>
    page.evaluate(async (text) => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      try {
        const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: text }] });
        return { ok: true, text: msg.content.map((b) => b.text ?? '').join(''), model: msg.model };
      } catch (e) {
        return { ok: false, status: e.status, code: e.error?.error?.code };
      }
    }, text);

  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'Only OpenAI', secret: OPENAI_KEY });
    page = await h.browser.context.newPage();
    await page.goto(h.pages.a.url('/sdk.html'), { waitUntil: 'load' });
    await page.waitForFunction(() => document.documentElement.dataset.sdk && window.keyfob);
    await page.evaluate(() => window.SDK_READY);
    origin = h.pages.a.origin;
  });

  after(async () => {
    await h?.teardown();
  });

  test('the approval window offers a route for a provider without a key, and nothing is routed unasked', async () => {
    const connected = page.evaluate(() =>
      window.keyfob.connect({ providers: [{ id: 'anthropic', required: true }] }).then(
        (s) => {
          window.session = s;
          return { ok: true, providers: s.providers };
        },
        (e) => ({ ok: false, code: e.code }),
      ),
    );
    const approval = await waitForApproval(h.browser.context);
    const row = approval.locator('li.provider-row', { has: approval.locator('input[value=anthropic]') });
    await row.getByText('No key stored').waitFor();
    const serveWith = approval.getByLabel('Or serve its calls with');
    assert.equal(await serveWith.inputValue(), '', 'a route was preselected');
    assert.deepEqual(await serveWith.locator('option').allInnerTexts(), ['Don’t route', 'OpenAI'], 'only providers with a key are offered');
    const model = approval.getByLabel('Model that answers Anthropic’s calls');
    assert.equal(await model.isVisible(), false, 'the model field shows before a route is chosen');

    await serveWith.selectOption('openai');
    await model.waitFor({ state: 'visible' });
    assert.notEqual(await model.inputValue(), '', 'an OpenAI model is suggested');
    await model.fill('gpt-4o-mini');
    await expectValue(() => approval.locator('input[value=anthropic]').isChecked(), true);
    await screenshot(approval, 'approve-route-offer');
    await expectValue(() => approval.getByRole('button', { name: 'Approve' }).isEnabled(), true);
    await clickThatCloses(approval.getByRole('button', { name: 'Approve' }));

    const result = await connected;
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.providers.anthropic.available, true, 'the routed provider is available');
    assert.deepEqual(await routesOf(), [{ from: 'anthropic', to: 'openai', models: [{ pattern: '*', model: 'gpt-4o-mini' }] }]);

    const out = await ask(prompt('ui-approve'));
    assert.deepEqual(out, { ok: true, text: replyText(prompt('ui-approve')), model: 'claude-sonnet-4-5' });
    const [call] = openaiCalls('ui-approve');
    assert.equal(JSON.parse(call.bodyText).model, 'gpt-4o-mini');
    assert.equal(call.headers.authorization, `Bearer ${OPENAI_KEY}`);
    assert.equal(h.mock.calls(PROVIDER_HOSTS.anthropic).length, 0);

    // The SDK's model list, with no Anthropic key: written by the wallet, nothing sent.
    const sent = h.mock.requests.length;
    const models = await page.evaluate(async () => {
      const { Anthropic } = window.SDK;
      const client = new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true, maxRetries: 0 });
      const page = await client.models.list();
      return page.data.map((m) => [m.type, m.id]);
    });
    assert.deepEqual(models, [['model', 'gpt-4o-mini']]);
    assert.equal(h.mock.requests.length, sent, 'the model list went upstream');
  });

  test('the site card shows the route; Edit routes changes its rules and refuses a bad one in place', async () => {
    popup = await openPopup(h.browser);
    await popup.getByRole('tab', { name: 'Sites' }).click();
    await siteCard().waitFor();
    await expectValue(() => siteCard().locator('.routes-summary').innerText(), 'Routed: Anthropic → OpenAI (* → gpt-4o-mini)');
    await screenshot(popup, 'popup-sites-route');

    await siteCard().getByRole('button', { name: `Edit routes for ${origin}` }).click();
    const dialog = popup.getByRole('dialog', { name: 'Routes for this site' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Route 1: calls to').inputValue(), 'anthropic');
    assert.equal(await dialog.getByLabel('Route 1: served by').inputValue(), 'openai');
    const pattern1 = dialog.getByLabel('Route 1, rule 1: requested model or prefix*');
    assert.equal(await pattern1.inputValue(), '*');
    await pattern1.fill('claude-haiku-*');
    await dialog.getByLabel('Route 1, rule 1: served model').fill('gpt-4o');
    await dialog.getByRole('button', { name: 'Add a model rule to route 1' }).click();
    await dialog.getByLabel('Route 1, rule 2: requested model or prefix*').fill('claude-*');
    await dialog.getByLabel('Route 1, rule 2: served model').fill('gpt 4o mini');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('alert').getByText(/is not a model name/).waitFor();
    assert.equal(await dialog.isVisible(), true, 'the dialog closed over a refused route');
    assert.deepEqual((await routesOf())[0].models, [{ pattern: '*', model: 'gpt-4o-mini' }], 'a refused edit changed the grant');

    await dialog.getByLabel('Route 1, rule 2: served model').fill('gpt-4o-mini');
    // OpenAI serves two APIs: the user picks Responses.
    const via = dialog.getByLabel('Route 1: through the API');
    assert.deepEqual(await via.locator('option').allInnerTexts(), ['its usual API', 'Chat Completions', 'Responses']);
    await via.selectOption('open_ai_responses');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expectValue(() => siteCard().locator('.routes-summary').innerText(), 'Routed: Anthropic → OpenAI Responses (claude-haiku-* → gpt-4o, claude-* → gpt-4o-mini)');
    const [saved] = await routesOf();
    assert.equal(saved.via, 'open_ai_responses');
    assert.deepEqual(saved.models, [
      { pattern: 'claude-haiku-*', model: 'gpt-4o' },
      { pattern: 'claude-*', model: 'gpt-4o-mini' },
    ]);

    const out = await ask(prompt('ui-edited'));
    assert.equal(out.ok, true, JSON.stringify(out));
    const [edited] = openaiCalls('ui-edited');
    assert.equal(edited.path, '/v1/responses', 'the route did not go through Responses');
    assert.equal(JSON.parse(edited.bodyText).model, 'gpt-4o-mini', 'claude-sonnet-4-5 took the second rule');
  });

  test('removing the route in the dialog: the call has no key to go to and nothing is sent', async () => {
    await siteCard().getByRole('button', { name: `Edit routes for ${origin}` }).click();
    const dialog = popup.getByRole('dialog', { name: 'Routes for this site' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Remove route 1' }).click();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await waitFor(async () => (await routesOf())?.length === 0, { message: 'the route was removed' });
    await siteCard().locator('.routes-summary').waitFor({ state: 'detached' });

    const sent = h.mock.calls(PROVIDER_HOSTS.openai).length;
    const out = await ask(prompt('ui-removed'));
    assert.equal(out.ok, false);
    assert.equal(out.code, 'PROVIDER_KEY_MISSING', JSON.stringify(out));
    assert.equal(h.mock.calls(PROVIDER_HOSTS.openai).length, sent, 'a call went to OpenAI without a route');
    assert.equal(h.mock.calls(PROVIDER_HOSTS.anthropic).length, 0);
  });
});

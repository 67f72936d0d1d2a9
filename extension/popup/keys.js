// The Keys tab: keys grouped by provider, each with its label, masked tail (computed by
// the core), dates, and actions: test, rename, replace (rotate), base URL, delete.
// A key is typed in once and never shown again.
import { confirmDialog, formDialog } from '../ui/dialog.js';
import { keyForm } from '../ui/keyform.js';
import { busy, errorText, formatDate, h, relativeTime, srOnly } from '../ui/kit.js';

const testResults = new Map(); // credential id -> {tone, text}
let addOpen = false;

export async function renderKeys(panel, app) {
  const reply = await app.run('credentials.list');
  if (!reply.ok) {
    panel.replaceChildren(h('p', { class: 'message', role: 'alert' }, errorText(reply.error)));
    return;
  }
  const keys = reply.value;
  const rerender = () => renderKeys(panel, app);

  const form = keyForm({
    providers: app.providers,
    idPrefix: 'add',
    onAdded: () => {
      addOpen = false;
      app.toast('Key added.');
      rerender().then(() => panel.querySelector('.add-toggle')?.focus());
    },
    onCancel: keys.length
      ? () => {
          addOpen = false;
          rerender().then(() => panel.querySelector('.add-toggle')?.focus());
        }
      : undefined,
  });
  const open = addOpen || keys.length === 0;
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'add-toggle',
      'aria-expanded': String(open),
      'aria-controls': 'add-key-region',
      hidden: keys.length === 0,
      onclick: () => {
        addOpen = !addOpen;
        rerender().then(() => (addOpen ? form.focus() : panel.querySelector('.add-toggle')?.focus()));
      },
    },
    open ? 'Close form' : '+ Add key',
  );
  const region = h(
    'section',
    { id: 'add-key-region', class: 'card add-card', hidden: !open, 'aria-label': 'Add a key' },
    keys.length === 0 ? h('p', { class: 'empty' }, 'No keys yet. Add one to let approved sites use it.') : null,
    form.element,
  );
  region.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && keys.length) {
      event.preventDefault();
      addOpen = false;
      rerender().then(() => panel.querySelector('.add-toggle')?.focus());
    }
  });

  const groups = app.providers
    .map((p) => ({ provider: p, keys: keys.filter((k) => k.provider === p.id) }))
    .filter((g) => g.keys.length);
  panel.replaceChildren(
    h('div', { class: 'panel-head' }, h('h2', {}, 'Your keys'), toggle),
    region,
    ...groups.map((g) => group(g, app, rerender)),
  );
}

function group({ provider, keys }, app, rerender) {
  // The engine sends each request with the provider's most recently changed key.
  const active = keys.reduce((a, b) => (b.updatedAtMs >= a.updatedAtMs ? b : a));
  return h(
    'section',
    { class: 'group', 'aria-label': provider.name },
    h('h3', {}, provider.name),
    h('ul', { class: 'cards' }, ...keys.map((k) => card(k, provider, keys.length > 1 && k === active, app, rerender))),
  );
}

function card(key, provider, inUse, app, rerender) {
  const result = h('p', { class: 'test-result', role: 'status' });
  const shownResult = testResults.get(key.id);
  if (shownResult) {
    result.textContent = shownResult.text;
    result.dataset.tone = shownResult.tone;
  }
  const action = (label, onclick, extra = {}) =>
    h('button', { type: 'button', class: 'small', onclick, ...extra }, label, srOnly(` ${key.label}`));

  const test = action('Test', (event) =>
    busy(event.currentTarget, async () => {
      result.textContent = 'Testing…';
      result.dataset.tone = 'info';
      const reply = await app.run('credentials.test', { id: key.id });
      const shown = reply.ok
        ? { tone: reply.value.verdict === 'works' ? 'ok' : reply.value.verdict === 'limited' ? 'warn' : 'error', text: reply.value.message }
        : { tone: 'error', text: errorText(reply.error) };
      testResults.set(key.id, shown);
      result.textContent = shown.text;
      result.dataset.tone = shown.tone;
    }),
    provider.testable ? {} : { disabled: true, title: `${provider.name} has no free call to test a key with` },
  );

  const rename = action('Rename', async () => {
    const input = h('input', { id: 'rename-label', type: 'text', maxlength: 100, value: key.label, autocomplete: 'off' });
    const saved = await formDialog({
      title: 'Rename key',
      fields: [h('label', { for: input.id }, 'Label'), input],
      onSubmit: async () => {
        const reply = await app.run('credentials.rename', { id: key.id, label: input.value });
        return reply.ok ? null : reply.error;
      },
    });
    if (saved) {
      app.toast('Key renamed.');
      rerender();
    }
  });

  const replace = action('Replace', async () => {
    const input = h('input', { id: 'replace-secret', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
    const saved = await formDialog({
      title: `Replace the ${provider.name} key “${key.label}”`,
      intro: 'After you rotate a key at the provider, paste the new one here. The old key is forgotten; connected sites keep working.',
      fields: [h('label', { for: input.id }, 'New API key'), input],
      submit: 'Replace key',
      onSubmit: async () => {
        if (!input.value.trim()) return 'Paste the new key.';
        const reply = await app.run('credentials.replace', { id: key.id, secret: input.value });
        input.value = '';
        return reply.ok ? null : reply.error;
      },
    });
    if (saved) {
      testResults.delete(key.id);
      app.toast('Key replaced.');
      rerender();
    }
  });

  const baseUrl = provider.needsBaseUrl
    ? action('Base URL', async () => {
        const input = h('input', { id: 'edit-base', type: 'url', value: key.baseUrl ?? '', autocomplete: 'off', spellcheck: 'false' });
        const saved = await formDialog({
          title: 'Base URL',
          intro: `Where this ${provider.name} key is sent. HTTPS, or plain http to this computer only.`,
          fields: [h('label', { for: input.id }, 'Base URL'), input],
          onSubmit: async () => {
            const reply = await app.run('credentials.setBaseUrl', { id: key.id, baseUrl: input.value });
            return reply.ok ? null : reply.error;
          },
        });
        if (saved) {
          testResults.delete(key.id);
          app.toast('Base URL saved.');
          rerender();
        }
      })
    : null;

  const remove = action(
    'Delete',
    async () => {
      const sure = await confirmDialog({
        title: `Delete “${key.label}”?`,
        body: [
          `The ${provider.name} key ending ${key.maskedKey.replace('…', '')} will be erased from Keyfob.`,
          'Sites that use it will get an error until you add another key. This cannot be undone; revoke the key at the provider too if it leaked.',
        ],
        confirm: 'Delete key',
      });
      if (!sure) return;
      const reply = await app.run('credentials.remove', { id: key.id });
      testResults.delete(key.id);
      app.toast(reply.ok ? 'Key deleted.' : errorText(reply.error));
      rerender();
    },
    { class: 'small danger' },
  );

  const used = key.lastUsedMs ? `last used ${relativeTime(key.lastUsedMs)}` : 'never used';
  return h(
    'li',
    { class: 'card key', dataset: { id: key.id } },
    h(
      'div',
      { class: 'title-row' },
      h('span', { class: 'key-label' }, key.label),
      inUse ? h('span', { class: 'tag', title: `Requests to ${provider.name} use this key (the most recently changed)` }, 'In use') : null,
      h('span', { class: 'masked', 'aria-label': `key ending ${key.maskedKey.replace('…', '')}` }, key.maskedKey),
    ),
    h('div', { class: 'meta' }, `Added ${formatDate(key.createdAtMs)} · ${used}`),
    key.baseUrl ? h('div', { class: 'meta mono' }, key.baseUrl) : null,
    h('div', { class: 'actions' }, test, rename, replace, baseUrl, remove),
    result,
  );
}

// The "add a key" form, used by onboarding, the Keys tab and the approval window. The key
// is read from its field once, sent to the engine, and the field is cleared: no page ever
// receives it back. Base URLs are checked by keyfob-core as the user types.
import { debounce, errorText, h, say, send } from './kit.js';

const BASE_URL_PLACEHOLDER = {
  azure_openai: 'https://my-resource.openai.azure.com',
  openai_compatible: 'http://127.0.0.1:11434/v1',
};
const BASE_URL_HELP = {
  azure_openai: 'Your Azure endpoint, https://NAME.openai.azure.com (or .cognitiveservices / .services.ai).',
  openai_compatible: 'HTTPS, or plain http to this computer (localhost, 127.0.0.1) for a local server.',
};

/**
 * Options: `providers` (from `providers.list`), `idPrefix`, `provider` (preselected id),
 * `onAdded({id, provider})`, `onCancel` (adds a Cancel button), `submitLabel`.
 * Returns `{element, focus(), setProvider(id)}`.
 */
export function keyForm({ providers, idPrefix = 'key', provider, onAdded, onCancel, submitLabel = 'Add key' }) {
  const id = (name) => `${idPrefix}-${name}`;
  const select = h('select', { id: id('provider'), required: true }, ...providers.map((p) => h('option', { value: p.id }, p.name)));
  const label = h('input', { id: id('label'), type: 'text', maxlength: 100, autocomplete: 'off', placeholder: 'e.g. Personal, Work' });
  const secret = h('input', {
    id: id('secret'),
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': id('secret-help'),
  });
  const baseUrl = h('input', {
    id: id('base'),
    type: 'url',
    inputmode: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': `${id('base-help')} ${id('base-check')}`,
  });
  const baseHelp = h('p', { class: 'help', id: id('base-help') });
  const baseCheck = h('p', { class: 'message', id: id('base-check'), 'aria-live': 'polite' });
  const baseRow = h('div', { class: 'field', hidden: true }, h('label', { for: baseUrl.id }, 'Base URL'), baseUrl, baseHelp, baseCheck);
  const message = h('p', { class: 'message', role: 'alert' });
  const submit = h('button', { class: 'primary', type: 'submit' }, submitLabel);
  const element = h(
    'form',
    { class: 'key-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: select.id }, 'Provider'), select),
    h('div', { class: 'field' }, h('label', { for: label.id }, 'Label ', h('span', { class: 'muted' }, '(optional)')), label),
    h(
      'div',
      { class: 'field' },
      h('label', { for: secret.id }, 'API key'),
      secret,
      h('p', { class: 'help', id: id('secret-help') }, 'Stored encrypted. Keyfob never shows it again, only its last 4 characters.'),
    ),
    baseRow,
    message,
    h('div', { class: 'row end' }, onCancel ? h('button', { type: 'button', onclick: onCancel }, 'Cancel') : null, submit),
  );

  const current = () => providers.find((p) => p.id === select.value);
  const syncBaseUrl = () => {
    const p = current();
    baseRow.hidden = !p?.needsBaseUrl;
    baseUrl.required = Boolean(p?.needsBaseUrl);
    baseUrl.placeholder = BASE_URL_PLACEHOLDER[p?.id] ?? 'https://';
    baseHelp.textContent = BASE_URL_HELP[p?.id] ?? '';
    say(baseCheck, '');
  };
  const checkBaseUrl = debounce(async () => {
    const p = current();
    if (!p?.needsBaseUrl || !baseUrl.value.trim()) return say(baseCheck, '');
    const asked = baseUrl.value;
    const reply = await send('providers.checkBaseUrl', { provider: p.id, baseUrl: asked });
    if (baseUrl.value !== asked) return undefined;
    if (reply.ok) say(baseCheck, `Keys go only to ${reply.value.baseUrl}`, 'ok');
    else say(baseCheck, errorText(reply.error));
    return undefined;
  }, 250);
  // After a paste, a known key prefix suggests the provider, unless the user chose one.
  let chosen = Boolean(provider);
  const secretHelp = element.querySelector(`#${id('secret-help')}`);
  const helpText = secretHelp.textContent;
  select.addEventListener('change', () => {
    chosen = true;
    syncBaseUrl();
    checkBaseUrl();
  });
  // The core knows each provider's key prefixes; only the key's start is sent to it.
  const suggest = debounce(async () => {
    const start = secret.value.trim().slice(0, 16);
    const reply = start ? await send('providers.guess', { keyStart: start }) : { ok: true, value: null };
    if (secret.value.trim().slice(0, 16) !== start) return;
    const guessed = reply.ok ? providers.find((p) => p.id === reply.value) : null;
    if (!chosen && guessed && select.value !== guessed.id) {
      select.value = guessed.id;
      syncBaseUrl();
    }
    secretHelp.textContent = guessed && select.value === guessed.id ? `Looks like ${article(guessed.name)} ${guessed.name} key. ${helpText}` : helpText;
  }, 60);
  secret.addEventListener('input', suggest);
  baseUrl.addEventListener('input', checkBaseUrl);

  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    const p = current();
    if (!secret.value.trim()) {
      say(message, 'Paste the API key from your provider’s dashboard.');
      secret.focus();
      return;
    }
    if (p?.needsBaseUrl && !baseUrl.value.trim()) {
      say(message, `${p.name} needs the base URL of your server or endpoint.`);
      baseUrl.focus();
      return;
    }
    submit.disabled = true;
    const reply = await send('credentials.add', {
      provider: p.id,
      label: label.value.trim() || p.name,
      secret: secret.value,
      baseUrl: p.needsBaseUrl ? baseUrl.value.trim() : null,
    });
    submit.disabled = false;
    if (!reply.ok) {
      say(message, errorText(reply.error));
      return;
    }
    secret.value = '';
    label.value = '';
    baseUrl.value = '';
    secretHelp.textContent = helpText;
    say(message, '');
    say(baseCheck, '');
    onAdded?.({ id: reply.value.id, provider: p.id });
  });

  const setProvider = (providerId) => {
    if (providers.some((p) => p.id === providerId)) select.value = providerId;
    syncBaseUrl();
  };
  setProvider(provider ?? providers[0]?.id);
  return { element, focus: () => select.focus(), focusSecret: () => secret.focus(), setProvider };
}

const article = (name) => (/^[AEIOU]/i.test(name) ? 'an' : 'a');

// Small helpers shared by Keyfob's pages: talking to the service worker, building DOM
// without innerHTML, and wording for people. No logic: every decision is the engine's.

/** Sends one command; always resolves `{ok, value}` or `{ok:false, error:{code, message}}`. */
export async function send(cmd, args = {}) {
  try {
    const reply = await chrome.runtime.sendMessage({ cmd, ...args });
    if (reply && typeof reply.ok === 'boolean') return reply;
    return { ok: false, error: { code: 'NO_REPLY', message: 'Keyfob did not answer. Try again.' } };
  } catch (error) {
    return { ok: false, error: { code: 'SEND_FAILED', message: String(error?.message ?? error) } };
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/**
 * `h('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child)`.
 * Strings become text nodes, so nothing from the engine is ever parsed as HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Text only a screen reader reads (e.g. which key a "Delete" button deletes). */
export const srOnly = (text) => h('span', { class: 'sr-only' }, text);

/** An engine error, worded for people. Branches on the stable code, never the message. */
export function errorText(error) {
  const message = String(error?.message ?? '');
  const strip = (prefix) => (message.startsWith(prefix) ? message.slice(prefix.length) : message);
  const sentence = (text) => {
    const t = text.trim();
    if (!t) return 'Something went wrong. Try again.';
    const first = t[0].toUpperCase() + t.slice(1);
    return /[.!?]$/.test(first) ? first : `${first}.`;
  };
  switch (error?.code) {
    case 'WRONG_PASSWORD':
      return 'That password is not right.';
    case 'WEAK_PASSWORD':
      return sentence(`Choose a stronger password: ${strip('password too weak: ')}`);
    case 'UNLOCK_BACKOFF':
      return 'Too many wrong passwords. Wait a moment, then try again.';
    case 'VAULT_CORRUPTED':
      return 'The wallet data is damaged and cannot be opened. Nothing was changed.';
    case 'VAULT_VERSION_UNSUPPORTED':
      return 'This wallet was saved by a newer Keyfob. Update the extension to open it.';
    case 'VAULT_EXISTS':
      return 'A wallet already exists on this browser profile.';
    case 'WALLET_LOCKED':
      return 'Keyfob locked itself. Unlock it to continue.';
    case 'VAULT_MISSING':
      return 'There is no wallet yet.';
    case 'BACKUP_INVALID':
      return 'That file is not a Keyfob backup, or it is damaged.';
    case 'CREDENTIAL_NOT_FOUND':
      return 'That key no longer exists.';
    case 'INVALID_INPUT':
      return sentence(strip('invalid input: '));
    case 'UNAVAILABLE':
      return sentence(message);
    case 'SEND_FAILED':
    case 'NO_REPLY':
      return 'Keyfob’s background service did not answer. Close this window and try again.';
    default:
      return sentence(message);
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatDate = (ms) => dateFormat.format(new Date(ms));
export const formatDateTime = (ms) => dateTimeFormat.format(new Date(ms));

/** "3 minutes ago", "in 29 days", "yesterday". */
export function relativeTime(ms, now = Date.now()) {
  const diff = ms - now;
  const abs = Math.abs(diff);
  const units = [
    ['year', 365 * 864e5],
    ['month', 30 * 864e5],
    ['week', 7 * 864e5],
    ['day', 864e5],
    ['hour', 36e5],
    ['minute', 6e4],
  ];
  for (const [unit, size] of units) {
    if (abs >= size) return relative.format(Math.round(diff / size), unit);
  }
  return diff < 0 ? 'just now' : 'in less than a minute';
}

/** "0:27", "4:05", "15:00" for a countdown. */
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** Runs `fn` once typing pauses for `ms`. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Shows `message` in an element with role=alert/status; empty hides nothing (space is kept). */
export function say(element, message, tone = 'error') {
  element.textContent = message ?? '';
  element.dataset.tone = tone;
}

/** Disables a button while `work` runs, so a double click sends one command. */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Whether this page is the toolbar popup (not a tab or window). */
export function isToolbarPopup() {
  try {
    return chrome.extension.getViews({ type: 'popup' }).includes(window);
  } catch {
    return false;
  }
}

/** True for `http:` origins (loopback development servers are the only ones allowed). */
export const isPlainHttp = (origin) => String(origin).startsWith('http:');

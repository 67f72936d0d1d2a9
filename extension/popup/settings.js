// The Settings tab: auto-lock, master password, encrypted backup (export and restore),
// the local bridge, lock now. Passwords are read from their fields once and the fields are cleared.
import { h, errorText, isToolbarPopup, say, send } from '../ui/kit.js';
import { strengthMeter } from '../ui/password.js';
import { bridgeSetting } from './bridge.js';

const AUTO_LOCK = [
  [1, '1 minute'],
  [5, '5 minutes'],
  [15, '15 minutes'],
  [30, '30 minutes'],
  [60, '1 hour'],
  [240, '4 hours'],
  [480, '8 hours'],
  [1440, '24 hours'],
];

export async function renderSettings(panel, app) {
  panel.replaceChildren(
    h('div', { class: 'panel-head' }, h('h2', {}, 'Settings')),
    autoLock(app),
    changePassword(app),
    exportBackup(app),
    importBackup(app),
    bridgeSetting(app),
    h(
      'section',
      { class: 'card setting' },
      h('div', { class: 'row between' }, h('span', { class: 'muted small' }, `Keyfob ${chrome.runtime.getManifest().version}`), h('button', { type: 'button', onclick: () => document.querySelector('#lock')?.click() }, 'Lock now')),
    ),
  );
}

function autoLock(app) {
  const current = app.status?.autoLockMinutes ?? 15;
  const options = AUTO_LOCK.some(([m]) => m === current) ? AUTO_LOCK : [...AUTO_LOCK, [current, `${current} minutes`]].sort((a, b) => a[0] - b[0]);
  const select = h('select', { id: 'auto-lock' }, ...options.map(([m, label]) => h('option', { value: m, selected: m === current }, label)));
  const message = h('p', { class: 'message', role: 'status' });
  select.addEventListener('change', async () => {
    const reply = await app.run('settings.setAutoLock', { minutes: Number(select.value) });
    if (reply.ok) app.status = reply.value;
    say(message, reply.ok ? 'Saved.' : errorText(reply.error), reply.ok ? 'ok' : 'error');
  });
  return h(
    'section',
    { class: 'card setting' },
    h('div', { class: 'setting-head' }, h('label', { for: select.id, class: 'setting-title' }, 'Lock after inactivity'), message),
    select,
    h('p', { class: 'help' }, 'Keyfob also locks when the browser closes.'),
  );
}

function passwordField(id, label, { autocomplete = 'new-password', meter = false } = {}) {
  const input = h('input', { id, type: 'password', autocomplete, required: true });
  const m = meter ? strengthMeter(input) : null;
  return { input, meter: m, element: h('div', { class: 'field' }, h('label', { for: id }, label), input, m?.element) };
}

function changePassword(app) {
  const current = passwordField('current-password', 'Current password', { autocomplete: 'current-password' });
  const next = passwordField('new-password', 'New password', { meter: true });
  const again = passwordField('new-password-again', 'Type the new password again');
  const message = h('p', { class: 'message', role: 'alert' });
  const form = h('form', { novalidate: true }, current.element, next.element, again.element, message, h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Change password')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current.input.value || !next.input.value) return say(message, 'Fill in your current and new password.');
    if (next.input.value !== again.input.value) {
      again.input.focus();
      return say(message, 'The two new passwords are not the same.');
    }
    say(message, 'Re-encrypting your wallet…', 'info');
    const reply = await app.run('vault.changePassword', { oldPassword: current.input.value, newPassword: next.input.value });
    current.input.value = '';
    if (!reply.ok) return say(message, errorText(reply.error));
    next.input.value = '';
    again.input.value = '';
    next.meter.reset();
    say(message, 'Master password changed. Use the new one from now on.', 'ok');
    return undefined;
  });
  return h('details', { class: 'card setting' }, h('summary', {}, 'Change master password'), form);
}

// The master password is asked again: an unlocked browser alone must not be enough to take
// every key away. A wrong one counts toward the unlock back-off, as at the lock screen.
function exportBackup(app) {
  const current = passwordField('export-current-password', 'Current master password', { autocomplete: 'current-password' });
  const pw = passwordField('backup-password', 'Backup password', { meter: true });
  const message = h('p', { class: 'message', role: 'alert' });
  const form = h(
    'form',
    { novalidate: true },
    h('p', { class: 'help' }, 'Saves every key in one file, encrypted with the backup password (it can differ from your master password). Keep the file and the password apart.'),
    current.element,
    pw.element,
    message,
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Download backup')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current.input.value) {
      current.input.focus();
      return say(message, 'Enter your master password.');
    }
    if (!pw.input.value) {
      pw.input.focus();
      return say(message, 'Choose a password for the backup file.');
    }
    say(message, 'Encrypting…', 'info');
    const reply = await app.run('backup.export', { currentPassword: current.input.value, password: pw.input.value });
    current.input.value = '';
    if (!reply.ok) {
      if (reply.error?.code === 'WRONG_PASSWORD') {
        current.input.focus();
        return say(message, 'That is not your master password.');
      }
      return say(message, errorText(reply.error));
    }
    pw.input.value = '';
    pw.meter.reset();
    const bytes = Uint8Array.from(atob(reply.value.data), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = h('a', { href: url, download: `keyfob-backup-${new Date().toISOString().slice(0, 10)}.kfob`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(message, 'Backup saved to your downloads.', 'ok');
    return undefined;
  });
  return h('details', { class: 'card setting' }, h('summary', {}, 'Export an encrypted backup'), form);
}

function importBackup(app) {
  const message = h('p', { class: 'message', role: 'alert' });
  if (isToolbarPopup()) {
    // A file picker closes the toolbar popup on some systems: restore in a tab instead.
    const open = h('button', { type: 'button', onclick: () => chrome.tabs.create({ url: chrome.runtime.getURL('popup/popup.html#settings') }) }, 'Open restore in a tab');
    return h('details', { class: 'card setting' }, h('summary', {}, 'Restore from a backup'), h('p', { class: 'help' }, 'Choosing a file works best in a full tab.'), h('div', { class: 'row end' }, open));
  }
  const file = h('input', { id: 'restore-file', type: 'file', accept: '.kfob,application/octet-stream' });
  const pw = passwordField('restore-password', 'Backup password', { autocomplete: 'off' });
  const form = h(
    'form',
    { novalidate: true },
    h('p', { class: 'help' }, 'Adds the backup’s keys to this wallet. A key that is already here is replaced by its backed-up version.'),
    h('div', { class: 'field' }, h('label', { for: file.id }, 'Backup file'), file),
    pw.element,
    message,
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Restore')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return say(message, 'Choose a backup file (.kfob).');
    if (chosen.size > 16 * 1024 * 1024) return say(message, 'That file is too large to be a Keyfob backup.');
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    say(message, 'Decrypting…', 'info');
    const reply = await send('backup.import', { data: btoa(binary), password: pw.input.value });
    pw.input.value = '';
    if (!reply.ok) return say(message, errorText(reply.error));
    const n = reply.value.imported;
    say(message, `Restored ${n} ${n === 1 ? 'key' : 'keys'}.`, 'ok');
    app.toast(`Restored ${n} ${n === 1 ? 'key' : 'keys'}.`);
    return undefined;
  });
  return h('details', { class: 'card setting' }, h('summary', {}, 'Restore from a backup'), form);
}

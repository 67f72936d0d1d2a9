// Modal dialogs on the native <dialog>: focus moves in and is trapped, Escape cancels,
// and focus returns to whatever opened the dialog.
import { errorText, h, say } from './kit.js';

let ids = 0;

function open(dialog, initialFocus) {
  const opener = document.activeElement;
  document.body.append(dialog);
  dialog.showModal();
  (initialFocus ?? dialog.querySelector('input, select, button'))?.focus();
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener?.isConnected) opener.focus();
  });
}

/**
 * Asks to confirm a destructive action. Resolves true only for the confirm button.
 * The safe choice (Cancel) has the initial focus, so Enter alone never destroys.
 */
export function confirmDialog({ title, body, confirm, tone = 'danger' }) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${++ids}`;
    const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', class: tone, value: 'ok' }, confirm);
    const dialog = h(
      'dialog',
      { 'aria-labelledby': titleId, class: 'modal' },
      h('h2', { id: titleId }, title),
      ...(Array.isArray(body) ? body : [body]).map((p) => (p instanceof Node ? p : h('p', {}, p))),
      h('div', { class: 'row end' }, cancel, ok),
    );
    cancel.addEventListener('click', () => dialog.close('cancel'));
    ok.addEventListener('click', () => dialog.close('ok'));
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'));
    open(dialog, cancel);
  });
}

/**
 * A small form in a dialog. `fields` are nodes; `onSubmit()` returns nothing on success
 * or an engine error / string to show (the dialog stays open). Resolves true if saved.
 */
export function formDialog({ title, intro, fields, submit = 'Save', onSubmit }) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${++ids}`;
    const message = h('p', { class: 'message', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary' }, submit);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h(
      'form',
      { novalidate: true },
      h('h2', { id: titleId }, title),
      intro ? h('p', { class: 'muted' }, intro) : null,
      ...fields,
      message,
      h('div', { class: 'row end' }, cancel, save),
    );
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'modal' }, form);
    cancel.addEventListener('click', () => dialog.close('cancel'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      save.disabled = true;
      const problem = await onSubmit();
      save.disabled = false;
      if (problem) {
        say(message, typeof problem === 'string' ? problem : errorText(problem));
        return;
      }
      dialog.close('ok');
    });
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'));
    open(dialog);
  });
}

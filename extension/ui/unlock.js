// The unlock form, shared by the popup and the approval window: a clear wrong-password
// message, how many tries are left before a delay, and a countdown while the engine's
// back-off runs. The back-off itself is enforced in keyfob-core, not here.
import { clock, errorText, h, say, send } from './kit.js';

/**
 * Builds an unlock form. `onUnlocked(status)` runs after a successful unlock; `extra` are
 * buttons placed before Unlock (e.g. the approval window's Reject).
 * Returns `{element, input, update(status)}`: call `update` with `vault.status` whenever
 * the form is shown, so a running back-off shows at once.
 */
export function unlockForm({ onUnlocked, extra = [], idPrefix = 'unlock', intro } = {}) {
  const input = h('input', {
    id: `${idPrefix}-password`,
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': `${idPrefix}-message ${idPrefix}-timer`,
  });
  const message = h('p', { class: 'message', id: `${idPrefix}-message`, role: 'alert' });
  const timer = h('p', { class: 'message timer muted', id: `${idPrefix}-timer`, role: 'timer', 'aria-live': 'off' });
  const button = h('button', { class: 'primary', type: 'submit' }, 'Unlock');
  const element = h(
    'form',
    { class: 'unlock-form', novalidate: true },
    intro ? h('p', {}, intro) : null,
    h('label', { for: input.id }, 'Master password'),
    input,
    message,
    timer,
    h('div', { class: 'row end' }, ...extra, button),
  );

  let countdown = null;
  const stopCountdown = () => {
    clearInterval(countdown);
    countdown = null;
    timer.textContent = '';
    input.disabled = false;
    button.disabled = false;
  };
  const startCountdown = (retryAfterMs) => {
    stopCountdown();
    const until = Date.now() + retryAfterMs;
    input.disabled = true;
    button.disabled = true;
    say(message, 'Too many wrong passwords. Keyfob makes you wait before the next try.');
    const tick = () => {
      const left = until - Date.now();
      if (left <= 0) {
        stopCountdown();
        say(message, 'You can try again now.', 'info');
        input.focus();
        return;
      }
      timer.textContent = `Try again in ${clock(left)}`;
    };
    tick();
    countdown = setInterval(tick, 250);
  };

  const update = (status) => {
    if (status?.retryAfterMs > 0) startCountdown(status.retryAfterMs);
    else if (countdown === null) {
      input.disabled = false;
      button.disabled = false;
    }
  };

  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    if (!input.value) {
      say(message, 'Enter your master password.');
      input.focus();
      return;
    }
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    say(message, 'Unlocking…', 'info');
    const reply = await send('vault.unlock', { password: input.value });
    input.value = '';
    button.removeAttribute('aria-busy');
    button.disabled = false;
    if (reply.ok) {
      say(message, '');
      onUnlocked?.(reply.value);
      return;
    }
    const status = await send('vault.status');
    if (reply.error.code === 'UNLOCK_BACKOFF' || (status.ok && status.value.retryAfterMs > 0)) {
      startCountdown(reply.error.retryAfterMs ?? status.value.retryAfterMs);
      return;
    }
    let text = errorText(reply.error);
    const left = status.ok ? status.value.freeAttemptsLeft : null;
    if (reply.error.code === 'WRONG_PASSWORD' && left > 0 && left <= 3) {
      text += ` ${left} more ${left === 1 ? 'try' : 'tries'} before Keyfob makes you wait.`;
    }
    say(message, text);
    input.focus();
  });

  return { element, input, update, reset: () => { stopCountdown(); say(message, ''); } };
}

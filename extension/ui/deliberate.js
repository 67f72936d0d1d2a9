// A button that only a deliberate act presses: the approval windows' Approve (consent is
// never given by a stray key press).
//
// - It is off (aria-disabled, so it stays in the Tab order and a screen reader says why it
//   does nothing) until the window has been shown, focused and visible for `delayMs`.
// - Losing the focus or being hidden turns it off; getting them back starts the delay again.
// - Any key pressed anywhere in the window starts the delay again, so a user who was typing
//   elsewhere when the window appeared cannot press it by typing on. The one exception is
//   Space or Enter on the button itself once it is on: a user who moved the focus there.
// - It is never a form's submit button, so Enter in a field submits nothing.
// A pointer click on it while it is on, or that Space/Enter, calls `onPress`; anything else
// does nothing.

/** How long the button stays off after the window is shown, focused, or typed in. */
export const ARM_DELAY_MS = 500;

/**
 * Gates `button` (a `<button type="button">`). Returns `{show(on), disable()}`: `show(true)`
 * when the choice it belongs to is on screen (starts the delay), `show(false)` when not;
 * `disable()` turns it off for good.
 */
export function deliberateButton(button, onPress, { delayMs = ARM_DELAY_MS } = {}) {
  let shown = false;
  let armed = false;
  let dead = false;
  let timer = null;

  const set = (on) => {
    armed = on;
    button.setAttribute('aria-disabled', String(!on));
  };
  const disarm = () => {
    clearTimeout(timer);
    set(false);
  };
  const arm = () => {
    disarm();
    if (!shown || dead) return;
    timer = setTimeout(() => {
      if (document.hasFocus() && document.visibilityState === 'visible') set(true);
    }, delayMs);
  };
  disarm();

  button.addEventListener('click', (event) => {
    if (!armed) {
      event.preventDefault();
      return;
    }
    onPress();
  });
  // Capture phase: runs before anything in the page sees the key.
  window.addEventListener(
    'keydown',
    (event) => {
      const activates = event.target === button && (event.key === 'Enter' || event.key === ' ') && !event.repeat && !event.altKey && !event.ctrlKey && !event.metaKey;
      if (armed && activates) return;
      arm();
    },
    true,
  );
  window.addEventListener('blur', disarm);
  window.addEventListener('focus', arm);
  document.addEventListener('visibilitychange', () => (document.visibilityState === 'visible' ? arm() : disarm()));

  return {
    show(on) {
      shown = on;
      if (on) arm();
      else disarm();
    },
    disable() {
      dead = true;
      disarm();
    },
  };
}

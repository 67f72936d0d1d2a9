// The master-password strength meter. The grade comes from keyfob-core (the same rules
// that refuse a weak password on create), so the meter and the Create button agree.
import { debounce, h, send } from './kit.js';

/**
 * Builds a meter under `input` and keeps it current as the user types.
 * Returns `{element, reading()}`; `reading()` is the last grade (or null before any).
 */
export function strengthMeter(input) {
  const bar = h('div', { class: 'meter-bar', 'aria-hidden': 'true' }, ...[1, 2, 3, 4].map(() => h('span')));
  const label = h('span', { class: 'meter-label' });
  const hint = h('span', { class: 'meter-hint' });
  const element = h('div', { class: 'meter', 'data-score': '', role: 'status', 'aria-live': 'polite' }, bar, h('div', { class: 'meter-text' }, label, hint));
  input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), meterId(element)].filter(Boolean).join(' '));
  let last = null;
  let seq = 0;

  const render = (grade) => {
    last = grade;
    element.dataset.score = grade ? String(grade.score) : '';
    label.textContent = grade && input.value ? `Strength: ${grade.label}` : '';
    hint.textContent = grade && input.value && grade.hint ? ` · ${capitalise(grade.hint)}` : '';
  };

  const update = debounce(async () => {
    const mine = ++seq;
    if (!input.value) return render(null);
    const reply = await send('password.strength', { password: input.value });
    if (mine === seq && reply.ok) render(reply.value);
  }, 120);
  input.addEventListener('input', update);
  return {
    element,
    reading: () => last,
    reset: () => {
      seq += 1;
      render(null);
    },
  };
}

let ids = 0;
function meterId(element) {
  if (!element.id) element.id = `meter-${++ids}`;
  return element.id;
}

const capitalise = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

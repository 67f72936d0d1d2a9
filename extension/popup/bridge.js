// Settings → Local apps: the bridge that lets agents and CLIs on this computer use the
// wallet (`keyfob login`, docs/bridge.md). It runs by itself while a local app is
// approved; starting it here lets a new one ask to log in. The service worker decides;
// this only shows its state and asks it to start or stop.
import { h, errorText, say } from '../ui/kit.js';

/** How the bridge's state reads to people. */
function describe(state) {
  if (state.listening) return `Running on ${state.listening}.`;
  if (state.connected) return 'Starting…';
  if (state.error) return `Not running: ${state.error}. Run \`keyfob install\` once, then start it again.`;
  return 'Not running. Local apps you approved start it by themselves.';
}

export function bridgeSetting(app) {
  const line = h('p', { class: 'help', id: 'bridge-state', role: 'status' }, 'Checking…');
  const message = h('p', { class: 'message', role: 'status' });
  const toggle = h('button', { type: 'button', id: 'bridge-toggle' }, 'Start');
  let state = null;
  const show = (next) => {
    state = next;
    line.textContent = describe(state);
    toggle.textContent = state.connected ? 'Stop' : 'Start';
  };
  const refresh = async () => {
    const reply = await app.run('bridge.status');
    if (reply.ok) show(reply.value);
    else say(message, errorText(reply.error), 'error');
  };
  toggle.addEventListener('click', async () => {
    const reply = await app.run(state?.connected ? 'bridge.stop' : 'bridge.start');
    if (!reply.ok) return say(message, errorText(reply.error), 'error');
    show(reply.value);
    // The host answers in a moment: show where it listens once it does.
    for (let i = 0; i < 20 && state.connected && !state.listening; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await refresh();
    }
    return undefined;
  });
  refresh();
  return h(
    'section',
    { class: 'card setting' },
    h('div', { class: 'setting-head' }, h('span', { class: 'setting-title' }, 'Local apps (bridge)'), message),
    line,
    h('div', { class: 'row between' }, h('span', { class: 'muted small' }, 'Agents and CLIs use it through keyfob login.'), toggle),
  );
}

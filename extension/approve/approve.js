// The approval window: shows the requesting origin and providers, sends the decision.
// Everything it shows comes from the service worker; nothing comes from the page.
const id = new URLSearchParams(location.search).get('id') ?? '';
const $ = (sel) => document.querySelector(sel);
const send = (cmd, args = {}) => chrome.runtime.sendMessage({ cmd, ...args });

function show(section) {
  for (const s of ['#loading', '#setup', '#unlock', '#decide', '#gone']) $(s).hidden = s !== section;
  $(section).querySelector('input, button, a')?.focus();
}

async function load() {
  const reply = await send('approvals.get', { id });
  if (!reply.ok) return show('#gone');
  const approval = reply.value;
  if (approval.wallet === 'missing') return show('#setup');
  if (approval.locked) return show('#unlock');
  $('#origin').textContent = approval.origin;
  const box = $('#providers');
  box.replaceChildren();
  for (const p of approval.providers) {
    const row = document.createElement('label');
    row.className = 'check';
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = 'provider';
    input.value = p.id;
    input.checked = p.hasKey !== false;
    const text = document.createElement('span');
    text.textContent = `${p.name || p.id}${p.required ? ' (required)' : ''}`;
    const note = document.createElement('span');
    note.className = 'muted';
    note.textContent = p.hasKey === false ? ' — no key stored' : '';
    row.append(input, text, note);
    box.append(row);
  }
  show('#decide');
}

$('#unlock').addEventListener('submit', async (event) => {
  event.preventDefault();
  const reply = await send('vault.unlock', { password: $('#unlock-password').value });
  $('#unlock-password').value = '';
  if (!reply.ok) {
    $('#unlock-error').textContent = reply.error.message;
    return;
  }
  load();
});

async function decide(approve) {
  const providers = [...document.querySelectorAll('input[name=provider]:checked')].map((i) => i.value);
  const expiry = $('#expiry').value;
  const reply = await send('approvals.decide', {
    id,
    approve,
    providers: approve ? providers : [],
    expiresInMs: approve && expiry ? Number(expiry) : null,
  });
  if (!reply.ok) {
    $('#decide-error').textContent = reply.error.message;
    return;
  }
  window.close();
}

$('#decide').addEventListener('submit', (event) => {
  event.preventDefault();
  decide(true);
});
$('#reject').addEventListener('click', () => decide(false));
$('#reject-locked').addEventListener('click', () => decide(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && ($('#decide').hidden === false || $('#unlock').hidden === false)) decide(false);
});

load();

// The per-request approval window ("ask me above $X"): shows what the worker says about
// the waiting request and sends the user's answer. Closing the window rejects it.
const id = new URLSearchParams(location.search).get('id') ?? '';
const $ = (sel) => document.querySelector(sel);
const send = (cmd, args = {}) => chrome.runtime.sendMessage({ cmd, ...args });

async function load() {
  const reply = await send('requestApprovals.get', { id });
  $('#loading').hidden = true;
  if (!reply.ok) {
    $('#gone').hidden = false;
    return;
  }
  const r = reply.value;
  $('#origin').textContent = r.origin;
  $('#provider').textContent = r.provider;
  $('#model').textContent = r.model ?? 'not named';
  $('#cost').textContent = r.estimatedMaxUsd ?? `unknown (up to ${r.estimatedTokens} tokens)`;
  $('#decide').hidden = false;
  $('#reject').focus();
}

async function decide(approve) {
  await send('requestApprovals.decide', { id, approve });
  window.close();
}

$('#decide').addEventListener('submit', (event) => {
  event.preventDefault();
  decide(true);
});
$('#reject').addEventListener('click', () => decide(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') decide(false);
});
load();

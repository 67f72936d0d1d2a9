// The per-request approval window ("ask me above $X"): shows what the worker says about
// the waiting request and sends the user's answer. Closing the window rejects it.
// Approve takes a deliberate act (ui/deliberate.js): the focus starts on the heading, not
// on a button, so keys typed on from the page decide nothing.
import { deliberateButton } from '../ui/deliberate.js';

const id = new URLSearchParams(location.search).get('id') ?? '';
const $ = (sel) => document.querySelector(sel);
const send = (cmd, args = {}) => chrome.runtime.sendMessage({ cmd, ...args });
const approveButton = deliberateButton($('#approve'), () => decide(true));

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
  $('#request-title').focus();
  approveButton.show(true);
}

let deciding = false;
async function decide(approve) {
  if (deciding) return;
  deciding = true;
  approveButton.disable();
  await send('requestApprovals.decide', { id, approve });
  window.close();
}

$('#reject').addEventListener('click', () => decide(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') decide(false);
});
load();

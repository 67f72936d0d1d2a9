// The demo chat: window.keyfob + the official OpenAI / Anthropic SDKs, unchanged,
// with Keyfob's fetch. The apiKey the SDKs get is the session key, not a provider key.
const $ = (sel) => document.querySelector(sel);
let session = null;
let client = null;
let running = null;

function say(role, text) {
  const li = document.createElement('li');
  li.className = role;
  li.textContent = text;
  $('#log').append(li);
  return li;
}

async function loadSdk(provider) {
  try {
    if (provider === 'anthropic') {
      const { default: Anthropic } = await import('./vendor/anthropic.js');
      return { kind: 'anthropic', sdk: new Anthropic({ apiKey: session.sessionKey, fetch: session.createFetch('anthropic'), dangerouslyAllowBrowser: true }) };
    }
    const { default: OpenAI } = await import('./vendor/openai.js');
    return { kind: 'openai', sdk: new OpenAI({ apiKey: session.sessionKey, fetch: session.createFetch(provider), dangerouslyAllowBrowser: true }) };
  } catch {
    throw new Error('The SDK bundle is missing: run scripts/demo.sh, which bundles it into www/vendor/.');
  }
}

function ready() {
  $('#status').textContent = `Keyfob ${window.keyfob.version} found.`;
  $('#connect').disabled = false;
  window.keyfob.tryReconnect().then((s) => s && connected(s), () => {});
}

async function connected(s) {
  session = s;
  const provider = $('#provider').value;
  client = await loadSdk(provider);
  $('#status').textContent = `Connected. Provider: ${provider}.`;
  $('#chat').hidden = false;
  $('#connect').hidden = true;
  $('#disconnect').hidden = false;
  session.onDisconnect(() => {
    $('#status').textContent = 'Keyfob disconnected this site.';
    $('#chat').hidden = true;
    $('#connect').hidden = false;
    $('#disconnect').hidden = true;
  });
}

$('#connect').addEventListener('click', async () => {
  try {
    await connected(await window.keyfob.connect({ providers: [{ id: $('#provider').value, required: true }] }));
  } catch (e) {
    $('#status').textContent = `Not connected: ${e.code ?? ''} ${e.message}`;
  }
});
$('#disconnect').addEventListener('click', () => session?.disconnect());

$('#chat').addEventListener('submit', async (event) => {
  event.preventDefault();
  const prompt = $('#prompt').value;
  $('#prompt').value = '';
  say('user', prompt);
  const out = say('assistant', '');
  running = new AbortController();
  $('#stop').disabled = false;
  try {
    if (client.kind === 'anthropic') {
      const stream = client.sdk.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 512, messages: [{ role: 'user', content: prompt }] }, { signal: running.signal });
      stream.on('text', (t) => { out.textContent += t; });
      await stream.finalMessage();
    } else {
      const model = $('#provider').value === 'openai_compatible' ? 'keyfob-demo-1' : 'gpt-4.1-mini';
      const stream = await client.sdk.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: prompt }] }, { signal: running.signal });
      for await (const chunk of stream) out.textContent += chunk.choices[0]?.delta?.content ?? '';
    }
  } catch (e) {
    out.classList.add('error');
    out.textContent += `\n[${e.name}] ${e.message}`;
  } finally {
    running = null;
    $('#stop').disabled = true;
  }
});
$('#stop').addEventListener('click', () => running?.abort());

if (window.keyfob) ready();
else {
  $('#status').textContent = 'Keyfob is not installed in this browser (see the README).';
  window.addEventListener('keyfob#initialized', ready, { once: true });
}

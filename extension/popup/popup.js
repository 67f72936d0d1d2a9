// The toolbar popup: create, unlock, keys, connected sites. Logic lives in the engine.
const $ = (sel) => document.querySelector(sel);
const send = (cmd, args = {}) => chrome.runtime.sendMessage({ cmd, ...args });

function fail(reply) {
  $('#error').textContent = reply.ok ? '' : reply.error.message;
  return !reply.ok;
}

function item(text, detail, action) {
  const li = document.createElement('li');
  const grow = document.createElement('div');
  grow.className = 'grow';
  grow.textContent = text;
  const small = document.createElement('div');
  small.className = 'muted';
  small.textContent = detail;
  grow.append(small);
  li.append(grow);
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'danger';
    button.textContent = action.label;
    button.addEventListener('click', action.run);
    li.append(button);
  }
  return li;
}

async function render() {
  const status = await send('vault.status');
  if (fail(status)) return;
  const state = status.value.state;
  $('#create').hidden = state !== 'missing';
  $('#unlock').hidden = state !== 'locked';
  $('#wallet').hidden = state !== 'unlocked';
  if (state !== 'unlocked') return;

  const [keys, sites, providers] = await Promise.all([send('credentials.list'), send('grants.list'), send('providers.list')]);
  if (fail(keys) || fail(sites) || fail(providers)) return;
  const names = Object.fromEntries(providers.value.map((p) => [p.id, p.name]));
  $('#add-provider').replaceChildren(...providers.value.map((p) => new Option(p.name, p.id)));
  $('#keys').replaceChildren(
    ...(keys.value.length ? keys.value.map((k) =>
      item(`${names[k.provider] ?? k.provider} · ${k.label}`, k.maskedKey, {
        label: 'Delete',
        run: async () => { if (confirm(`Delete the key “${k.label}”?`)) { fail(await send('credentials.remove', { id: k.id })); render(); } },
      })) : [item('No keys yet', 'Add one below.')]),
  );
  $('#sites').replaceChildren(
    ...(sites.value.length ? sites.value.map((g) =>
      item(g.origin, g.providers.map((p) => names[p] ?? p).join(', '), {
        label: 'Revoke',
        run: async () => { fail(await send('grants.revoke', { origin: g.origin })); render(); },
      })) : [item('No connected sites', 'Sites ask to connect from their own page.')]),
  );
}

$('#create').addEventListener('submit', async (e) => {
  e.preventDefault();
  const reply = await send('vault.create', { password: $('#create-password').value });
  $('#create-password').value = '';
  if (!fail(reply)) render();
});
$('#unlock').addEventListener('submit', async (e) => {
  e.preventDefault();
  const reply = await send('vault.unlock', { password: $('#unlock-password').value });
  $('#unlock-password').value = '';
  if (!fail(reply)) render();
});
$('#add').addEventListener('submit', async (e) => {
  e.preventDefault();
  const reply = await send('credentials.add', {
    provider: $('#add-provider').value,
    label: $('#add-label').value || 'Default',
    secret: $('#add-secret').value,
    baseUrl: $('#add-base').value || null,
  });
  $('#add-secret').value = '';
  if (!fail(reply)) { $('#add').reset(); render(); }
});
$('#lock').addEventListener('click', async () => { fail(await send('vault.lock')); render(); });

render();

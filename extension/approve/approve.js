// The approval window (its own extension window, never the page's DOM). It shows the
// requesting origin in full, the providers asked for and whether a key is stored for
// each, and sends the user's decision, with optional limits (budget, models, surfaces,
// ask above) applied right after an approval. A provider with no key may instead be
// served by one that has a key (a route, offered and never preselected). Everything shown comes from the service
// worker, which took the origin from the connecting port, never from the page's words.
// Approve takes a deliberate act (ui/deliberate.js): the focus starts on the question, not
// on a control, so keys typed on from the page decide nothing.
import { deliberateButton } from '../ui/deliberate.js';
import { keyForm } from '../ui/keyform.js';
import { $, errorText, h, isPlainHttp, say, send } from '../ui/kit.js';
import { hasLimits, limitsForm } from '../ui/metering.js';
import { routeOffer, routeText } from '../ui/routes.js';
import { unlockForm } from '../ui/unlock.js';

const id = new URLSearchParams(location.search).get('id') ?? '';
const SECTIONS = ['#loading', '#setup', '#locked', '#decide', '#gone'];

let approval = null;
let current = null;
let providers = null; // providers.list, loaded when a key is added from here
let openAdd = null; // provider id whose inline "add key" form is open
const offers = new Map(); // provider id → its route offer, kept across re-renders
const limits = limitsForm({}, { idPrefix: 'approve-limits' });
$('#limits-slot').replaceChildren(limits.element);
/** Off for a moment after the choice is shown, the window focused, or a key pressed. */
const approveButton = deliberateButton($('#approve'), () => decide(true));

function show(section, { focus } = {}) {
  for (const s of SECTIONS) $(s).hidden = s !== section;
  const identity = section === '#locked' || section === '#decide';
  $('#site').hidden = !identity;
  $('#http-warning').hidden = !(identity && approval && isPlainHttp(approval.origin));
  document.querySelector('main').setAttribute('aria-busy', 'false');
  approveButton.show(section === '#decide');
  if (current !== section) {
    current = section;
    (focus ?? $(section).querySelector('input:not([disabled]), select, button'))?.focus();
  }
}

/** A local client (through the bridge) is named by the name it gave, as what it is. */
function showClient(name) {
  $('#origin-scheme').textContent = 'Local app ';
  $('#origin-host').textContent = name;
  $('#origin-port').textContent = '';
  $('#monogram').textContent = '>_';
  $('#decide-title').textContent = 'Allow this program on your computer to use your AI keys?';
  $('#client-note').hidden = false;
  document.title = `Keyfob — local app ${name} asks to use your keys`;
}

function showOrigin(origin) {
  const url = new URL(origin);
  $('#origin-scheme').textContent = `${url.protocol}//`;
  $('#origin-host').textContent = url.hostname;
  $('#origin-port').textContent = url.port ? `:${url.port}` : '';
  const first = url.hostname.replace(/^www\./, '')[0] ?? '?';
  $('#monogram').textContent = /[a-z]/i.test(first) ? first.toUpperCase() : '⌂';
  document.title = `Keyfob — ${origin} asks to use your keys`;
  // The favicon is decoration only; it is shown when the browser's favicon cache is available.
  if (chrome.runtime.getManifest().permissions?.includes('favicon')) {
    const img = $('#favicon');
    img.onload = () => {
      img.hidden = false;
      $('#monogram').hidden = true;
    };
    img.src = `/_favicon/?pageUrl=${encodeURIComponent(origin)}&size=32`;
  }
}

async function load() {
  const reply = await send('approvals.get', { id });
  if (!reply.ok) return show('#gone');
  approval = reply.value;
  if (approval.client) showClient(approval.client);
  else showOrigin(approval.origin);
  if (approval.wallet === 'missing') return show('#setup');
  if (approval.locked) {
    const status = await send('vault.status');
    unlock.update(status.ok ? status.value : null);
    return show('#locked');
  }
  renderChoice();
  show('#decide', { focus: $('#decide-title') });
  return undefined;
}

function renderChoice() {
  const list = $('#providers');
  const checkedBefore = new Map([...list.querySelectorAll('input[name=provider]')].map((i) => [i.value, i.checked]));
  const granted = approval.alreadyGranted ?? [];
  const already = $('#already');
  already.hidden = granted.length === 0;
  already.textContent = granted.length ? `This site may already use ${granted.map((g) => g.name).join(', ')}. Approving adds what you tick and sets a new expiry.` : '';

  list.replaceChildren(
    ...approval.providers.map((p) => {
      const inputId = `provider-${p.id}`;
      const noteId = `${inputId}-note`;
      const input = h('input', {
        type: 'checkbox',
        name: 'provider',
        value: p.id,
        id: inputId,
        'aria-describedby': noteId,
      });
      input.checked = checkedBefore.get(p.id) ?? (p.granted || p.hasKey !== false);
      input.addEventListener('change', warnRequired);
      const names = Object.fromEntries([...approval.routeTargets, ...approval.providers].map((t) => [t.id, t.name]));
      const status = p.hasKey !== false
        ? h('span', { class: 'key-status ok' }, 'Key stored')
        : p.route
          ? h('span', { class: 'key-status ok' }, `Served by ${routeText(p.route, names, approval.routeTargets)}`)
          : h('span', { class: 'key-status missing' }, 'No key stored');
      const add = p.hasKey === false
        ? h('button', { type: 'button', class: 'small link', 'aria-expanded': String(openAdd === p.id), onclick: () => toggleAdd(p.id) }, 'Add a key', h('span', { class: 'sr-only' }, ` for ${p.name}`))
        : null;
      const row = h(
        'li',
        { class: 'provider-row' },
        input,
        h('label', { for: inputId, class: 'grow' }, p.name, p.required ? h('span', { class: 'tag' }, 'required') : null, p.granted ? h('span', { class: 'tag ok' }, 'already allowed') : null),
        h('span', { id: noteId, class: 'row-note' }, status, add),
      );
      const slot = h('li', { class: 'inline-add', hidden: openAdd !== p.id });
      return [row, slot, offerRow(p)];
    }).flat().filter(Boolean),
  );
  if (openAdd) mountAdd(openAdd);
  warnRequired();
}

/** The route offer under a provider nothing can serve yet, when a key could. */
function offerRow(p) {
  const targets = approval.routeTargets.filter((t) => t.id !== p.id);
  if (p.hasKey !== false || p.route || !p.routable || targets.length === 0) {
    offers.delete(p.id);
    return null;
  }
  if (!offers.has(p.id)) {
    offers.set(p.id, routeOffer({
      from: p,
      targets,
      idPrefix: `route-${p.id}`,
      onChange: (chosen) => {
        if (chosen) $(`#provider-${p.id}`).checked = true;
        warnRequired();
      },
    }));
  }
  return h('li', { class: 'route-slot' }, offers.get(p.id).element);
}

function warnRequired() {
  const left = approval.providers.filter((p) => p.required && !$(`#provider-${p.id}`)?.checked);
  say($('#decide-error'), left.length ? `The site needs ${left.map((p) => p.name).join(' and ')}. Leaving it out refuses the connection.` : '', 'warn');
}

async function toggleAdd(providerId) {
  openAdd = openAdd === providerId ? null : providerId;
  renderChoice();
  if (!openAdd) $(`#provider-${providerId}`)?.focus();
}

async function mountAdd(providerId) {
  if (!providers) {
    const reply = await send('providers.list');
    providers = reply.ok ? reply.value : [];
  }
  const slot = $(`#provider-${providerId}`)?.closest('li')?.nextElementSibling;
  if (!slot || slot.childElementCount) return;
  const form = keyForm({
    providers,
    idPrefix: `add-${providerId}`,
    provider: providerId,
    onAdded: async () => {
      openAdd = null;
      const reply = await send('approvals.get', { id });
      if (!reply.ok) return show('#gone');
      approval = reply.value;
      renderChoice();
      const box = $(`#provider-${providerId}`);
      if (box) {
        box.checked = true;
        box.focus();
      }
      warnRequired();
      return undefined;
    },
    onCancel: () => toggleAdd(providerId),
  });
  slot.replaceChildren(form.element);
  form.focusSecret();
}

window.addEventListener('focus', () => {
  if (current === '#locked' || current === '#setup') load(); // unlocked or set up elsewhere
});

// ---- decisions ---------------------------------------------------------------------------

let deciding = false;
async function decide(approve) {
  if (deciding) return;
  const chosen = [...document.querySelectorAll('input[name=provider]:checked')].map((i) => i.value);
  if (approve && chosen.length === 0) {
    say($('#decide-error'), 'Tick at least one provider, or press Reject.');
    return;
  }
  // Limits are read before deciding, so a typo cannot leave a site approved without them.
  let policy = null;
  deciding = true;
  if (approve) {
    const read = await limits.read();
    if (read.error) {
      deciding = false;
      $('#limits').open = true;
      say($('#decide-error'), read.error);
      read.focus?.focus();
      return;
    }
    if (hasLimits(read.policy)) policy = read.policy;
  }
  const expiry = $('#expiry').value;
  const routes = approve ? [...offers.values()].map((o) => o.read()).filter((r) => r && chosen.includes(r.from)) : [];
  const reply = await send('approvals.decide', {
    id,
    approve,
    providers: approve ? chosen : [],
    expiresInMs: approve && expiry ? Number(expiry) : null,
    routes,
  });
  deciding = false;
  if (!reply.ok) {
    if (reply.error.code === 'APPROVAL_GONE') return show('#gone');
    say($('#decide-error'), errorText(reply.error));
    return;
  }
  if (policy) {
    const applied = await send('grants.setPolicy', { origin: approval.origin, policy });
    if (!applied.ok) {
      // The site is connected already; say so rather than closing over a lost setting.
      say($('#decide-error'), `Approved, but the limits were not saved: ${errorText(applied.error)} Set them in Keyfob › Sites.`);
      approveButton.disable();
      return;
    }
  }
  window.close();
}

$('#reject').addEventListener('click', () => decide(false));
$('#reject-setup').addEventListener('click', () => decide(false));
$('#open-setup').addEventListener('click', () => chrome.tabs.create({ url: chrome.runtime.getURL('popup/popup.html') }));
$('#close').addEventListener('click', () => window.close());

const unlock = unlockForm({
  idPrefix: 'unlock',
  onUnlocked: () => load(),
  extra: [h('button', { type: 'button', id: 'reject-locked', onclick: () => decide(false) }, 'Reject')],
});
$('#unlock-slot').replaceChildren(unlock.element);

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || event.defaultPrevented) return;
  if (openAdd) {
    event.preventDefault();
    const was = openAdd;
    toggleAdd(was);
    return;
  }
  if (['#decide', '#locked', '#setup'].includes(current)) {
    event.preventDefault();
    decide(false);
  } else if (current === '#gone') window.close();
});

load();

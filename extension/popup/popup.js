// The toolbar popup (also opens as a tab: popup.html#settings). It shows one view per
// wallet state: welcome (create), first key, locked, or the wallet with Keys, Sites,
// Activity and Settings tabs; above them, any site waiting for approval. Every decision is the
// engine's; this file only shows its answers.
import { $, errorText, h, isPlainHttp, say, send } from '../ui/kit.js';
import { keyForm } from '../ui/keyform.js';
import { strengthMeter } from '../ui/password.js';
import { unlockForm } from '../ui/unlock.js';
import { renderActivity } from './activity.js';
import { renderKeys } from './keys.js';
import { renderSettings } from './settings.js';
import { renderSites } from './sites.js';

const VIEWS = ['loading', 'welcome', 'first-key', 'locked', 'wallet', 'error'];
const TABS = ['keys', 'sites', 'activity', 'settings'];

const app = {
  providers: [],
  names: {},
  status: null,
  tab: TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'keys',
  onboarding: false,
  refresh,
  toast,
  /** Runs an engine command; a lock that happened meanwhile sends the popup back to unlock. */
  async run(cmd, args) {
    const reply = await send(cmd, args);
    if (!reply.ok && ['WALLET_LOCKED', 'VAULT_MISSING'].includes(reply.error.code)) refresh();
    return reply;
  },
};

// ---- views -------------------------------------------------------------------------------

let shown = null;
function show(view) {
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  $('#main').setAttribute('aria-busy', 'false');
  const first = shown === null || shown === 'loading';
  const changed = shown !== view;
  shown = view;
  if (!changed) return;
  // On open, only a password field takes the focus (the popup opens ready to type);
  // after a change of view, focus moves into the new view so keyboard users follow.
  const view$ = $(`#view-${view}`);
  const target = first
    ? view$.querySelector('input[type=password]:not([disabled])')
    : view$.querySelector('input:not([disabled]), [role=tab][aria-selected=true], button');
  target?.focus();
}

function setHeader(state) {
  const pill = $('#state-pill');
  pill.hidden = state === 'missing';
  pill.textContent = state === 'unlocked' ? 'Unlocked' : 'Locked';
  pill.dataset.state = state;
  $('#lock').hidden = state !== 'unlocked';
}

async function refresh() {
  const status = await send('vault.status');
  if (!status.ok) {
    say($('#fatal-message'), errorText(status.error));
    show('error');
    return;
  }
  app.status = status.value;
  setHeader(status.value.state);
  renderPending();
  renderProblems();
  if (status.value.state === 'missing') return show('welcome');
  if (status.value.state === 'locked') {
    app.onboarding = false;
    unlock.update(status.value);
    return show('locked');
  }
  if (app.providers.length === 0) {
    const providers = await send('providers.list');
    if (providers.ok) {
      app.providers = providers.value;
      app.names = Object.fromEntries(providers.value.map((p) => [p.id, p.name]));
    }
  }
  if (app.onboarding) return showFirstKey();
  if (firstKey) {
    // Onboarding is over: drop its form so no second "API key" field lingers.
    $('#first-key-form').replaceChildren();
    firstKey = null;
  }
  await renderTab();
  show('wallet');
}

// ---- problems with stored data -------------------------------------------------------------

// Damaged records the wallet set aside, and writes that failed (a full disk, say): the
// core reports them in `vault.status`; a set-aside record can be dismissed once read.
let problemsShown = '';
function renderProblems() {
  const list = app.status?.problems ?? [];
  const key = JSON.stringify(list);
  if (key === problemsShown) return;
  problemsShown = key;
  const box = $('#problems');
  box.hidden = list.length === 0;
  box.replaceChildren(
    ...list.map((p) =>
      h(
        'div',
        { class: 'problem-item', 'data-record': p.record, 'data-code': p.code },
        h(
          'div',
          { class: 'grow' },
          h('div', { class: 'problem-title' }, p.code === 'WRITE_FAILED' ? 'Not saved' : 'Damaged data set aside'),
          h('div', { class: 'small' }, p.message),
        ),
        p.code === 'STATE_SET_ASIDE'
          ? h('button', { type: 'button', class: 'ghost', onclick: () => dismissProblem(p.record) }, 'Dismiss')
          : null,
      ),
    ),
  );
}

async function dismissProblem(record) {
  const reply = await send('problems.dismiss', { record });
  if (!reply.ok) return toast(errorText(reply.error));
  const status = await send('vault.status');
  if (status.ok) app.status = status.value;
  renderProblems();
}

// ---- pending approvals -------------------------------------------------------------------

let pendingShown = '';
async function renderPending() {
  const box = $('#pending');
  const reply = app.status?.pendingApprovals ? await send('approvals.list') : { ok: true, value: [] };
  const list = reply.ok ? reply.value : [];
  const key = JSON.stringify(list.map((p) => p.id));
  if (key === pendingShown) return;
  pendingShown = key;
  box.hidden = list.length === 0;
  box.replaceChildren(
    ...list.map((p) =>
      h(
        'div',
        { class: 'pending-item' },
        h(
          'div',
          { class: 'grow' },
          h('div', { class: 'pending-title' }, 'Waiting for your approval'),
          h('div', { class: `origin-inline${isPlainHttp(p.origin) ? ' warn' : ''}` }, p.origin),
          h('div', { class: 'muted small' }, `wants to use ${p.providers.map((x) => x.name).join(', ')}`),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            onclick: async () => {
              const r = await send('approvals.focus', { id: p.id });
              // Focusing the approval window closes the toolbar popup by itself.
              if (!r.ok) toast(errorText(r.error));
            },
          },
          'Review',
          h('span', { class: 'sr-only' }, ` request from ${p.origin}`),
        ),
      ),
    ),
  );
}

// ---- onboarding --------------------------------------------------------------------------

const createPassword = $('#create-password');
const meter = strengthMeter(createPassword);
createPassword.closest('.field').append(meter.element);

$('#create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const message = $('#create-message');
  const password = createPassword.value;
  const confirm = $('#create-confirm').value;
  if (!password) {
    say(message, 'Choose a master password.');
    createPassword.focus();
    return;
  }
  if (password !== confirm) {
    say(message, 'The two passwords are not the same.');
    $('#create-confirm').focus();
    return;
  }
  const button = event.submitter ?? $('#create button[type=submit]');
  button.disabled = true;
  say(message, 'Creating your encrypted wallet…', 'info');
  const reply = await send('vault.create', { password });
  button.disabled = false;
  if (!reply.ok) {
    say(message, errorText(reply.error));
    createPassword.focus();
    return;
  }
  createPassword.value = '';
  $('#create-confirm').value = '';
  meter.reset();
  say(message, '');
  app.onboarding = true;
  refresh();
});

let firstKey = null;
function showFirstKey() {
  if (!firstKey) {
    firstKey = keyForm({
      providers: app.providers,
      idPrefix: 'first',
      onAdded: () => {
        app.onboarding = false;
        toast('Key added. Sites you approve can now use it.');
        refresh();
      },
    });
    $('#first-key-form').replaceChildren(firstKey.element);
  }
  show('first-key');
}
$('#skip-first-key').addEventListener('click', () => {
  app.onboarding = false;
  refresh();
});

// ---- locked ------------------------------------------------------------------------------

const unlock = unlockForm({ idPrefix: 'unlock', onUnlocked: () => refresh() });
$('#unlock-slot').replaceChildren(unlock.element);

// ---- wallet tabs -------------------------------------------------------------------------

const RENDER = { keys: renderKeys, sites: renderSites, activity: renderActivity, settings: renderSettings };

async function renderTab() {
  for (const t of TABS) {
    const tab = $(`#tab-${t}`);
    const selected = t === app.tab;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#panel-${t}`).hidden = !selected;
  }
  await RENDER[app.tab]($(`#panel-${app.tab}`), app);
}

async function selectTab(tab, { focus = true } = {}) {
  app.tab = tab;
  await renderTab();
  if (focus) $(`#tab-${tab}`).focus();
}

for (const t of TABS) $(`#tab-${t}`).addEventListener('click', () => selectTab(t));
$('.tabs').addEventListener('keydown', (event) => {
  const i = TABS.indexOf(app.tab);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  selectTab(TABS[(next + TABS.length) % TABS.length]);
});

$('#lock').addEventListener('click', async () => {
  await send('vault.lock');
  toast('Locked. Your keys are sealed until you unlock.');
  refresh();
});
$('#retry').addEventListener('click', () => refresh());

// ---- toast -------------------------------------------------------------------------------

let toastTimer = null;
function toast(text) {
  const el = $('#toast');
  el.textContent = text;
  el.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('shown'), 4000);
}

// The wallet can lock itself or gain a pending approval while the popup is open.
setInterval(async () => {
  if (document.hidden || $('dialog[open]')) return;
  const status = await send('vault.status');
  if (!status.ok || !app.status) return;
  const before = app.status;
  app.status = status.value;
  if (status.value.state !== before.state) refresh();
  else if (status.value.pendingApprovals !== before.pendingApprovals) renderPending();
  renderProblems();
}, 1500);

refresh();

// The Sites tab: every origin the user approved, with its providers, when it was granted
// and when it expires, its usage (totals, a 30-day chart, budget progress), its limits and
// its routes (which provider serves its calls to another); edit its providers (its pages
// get onProvidersUpdated), limits or routes, or revoke it (its pages get onDisconnect at
// once). Only that origin's pages are told.
import { confirmDialog, formDialog } from '../ui/dialog.js';
import { errorText, formatDate, formatDateTime, h, isPlainHttp, relativeTime, srOnly } from '../ui/kit.js';
import { budgetBars, limitsForm, policySummary, usageChart, usageLine } from '../ui/metering.js';
import { routeEditor, routeText } from '../ui/routes.js';

export async function renderSites(panel, app) {
  const reply = await app.run('grants.list');
  if (!reply.ok) {
    panel.replaceChildren(h('p', { class: 'message', role: 'alert' }, errorText(reply.error)));
    return;
  }
  const grants = reply.value;
  // One call for every site: totals, the daily series and budget progress.
  const usage = grants.length ? await app.run('usage.get', { days: 30 }) : { ok: true, value: [] };
  const bySite = new Map((usage.ok ? usage.value : []).map((u) => [u.origin, u]));
  const rerender = () => renderSites(panel, app);
  panel.replaceChildren(
    h('div', { class: 'panel-head' }, h('h2', {}, 'Connected sites')),
    grants.length
      ? h('ul', { class: 'cards' }, ...grants.map((g) => card(g, bySite.get(g.origin), app, rerender)))
      : h(
          'div',
          { class: 'card empty' },
          h('p', {}, 'No sites connected yet.'),
          h('p', { class: 'muted' }, 'When a site asks to use your keys, Keyfob opens a window where you choose what it may use. It never sees the keys themselves.'),
        ),
  );
}

function card(grant, usage, app, rerender) {
  const names = grant.providers.map((p) => app.names[p] ?? p);
  // Relative to the worker's clock, which is the one that enforces the expiry.
  const expiresAt = grant.expiresInMs === null || grant.expiresInMs === undefined ? null : Date.now() + grant.expiresInMs;
  const expiry = grant.expired
    ? h('span', { class: 'tag danger' }, `Expired ${relativeTime(expiresAt)}`)
    : expiresAt
      ? h('span', { title: `Until ${formatDateTime(grant.expiresAtMs)}` }, `Expires ${relativeTime(expiresAt)}`)
      : 'Until you revoke it';

  const revoke = h(
    'button',
    {
      type: 'button',
      class: 'small danger',
      onclick: async () => {
        const sure = await confirmDialog({
          title: grant.expired ? 'Remove this site?' : 'Revoke access?',
          body: [
            h('p', { class: 'origin-inline' }, grant.origin),
            grant.expired
              ? 'Its access has already expired. This removes it from the list.'
              : 'Its open pages lose access to your keys at once. It can ask to connect again later.',
          ],
          confirm: grant.expired ? 'Remove' : 'Revoke',
        });
        if (!sure) return;
        const r = await app.run('grants.revoke', { origin: grant.origin });
        app.toast(r.ok ? `${grant.origin} can no longer use your keys.` : errorText(r.error));
        await rerender();
        document.querySelector('#tab-sites')?.focus();
      },
    },
    grant.expired ? 'Remove' : 'Revoke',
    srOnly(` ${grant.origin}`),
  );

  const edit = grant.expired
    ? null
    : h(
        'button',
        { type: 'button', class: 'small', onclick: () => editProviders(grant, app, rerender) },
        'Edit providers',
        srOnly(` for ${grant.origin}`),
      );
  const limits = grant.expired
    ? null
    : h(
        'button',
        { type: 'button', class: 'small', onclick: () => editLimits(grant, app, rerender) },
        'Edit limits',
        srOnly(` for ${grant.origin}`),
      );
  const routes = grant.expired
    ? null
    : h(
        'button',
        { type: 'button', class: 'small', onclick: () => editRoutes(grant, app, rerender) },
        'Edit routes',
        srOnly(` for ${grant.origin}`),
      );
  const summary = policySummary(grant.policy);
  const routed = grant.routes ?? [];

  return h(
    'li',
    { class: `card site${grant.expired ? ' expired' : ''}`, dataset: { origin: grant.origin } },
    h('div', { class: 'title-row' }, h('span', { class: 'origin-inline' }, grant.origin), isPlainHttp(grant.origin) ? h('span', { class: 'tag warn', title: 'A development server on this computer' }, 'local http') : null, grant.client ? h('span', { class: 'tag', title: 'A program on this computer, through the Keyfob bridge' }, 'local app') : null),
    h('div', { class: 'chips', 'aria-label': 'May use' }, ...names.map((n) => h('span', { class: 'chip' }, n))),
    h('div', { class: 'meta' }, `Connected ${formatDate(grant.createdAtMs)} · `, expiry),
    usage
      ? h(
          'section',
          { class: 'usage', 'aria-label': `Usage by ${grant.origin}` },
          h('p', { class: 'usage-line' }, usageLine(usage.summary)),
          usageChart(usage.daily),
          budgetBars(usage.budgets),
        )
      : null,
    h('p', { class: 'meta limits-summary' }, summary ? `Limits: ${summary}` : 'No limits: any model, no budget.'),
    routed.length
      ? h('ul', { class: 'meta routes-summary', 'aria-label': 'Routes' }, ...routed.map((r) => h('li', {}, `Routed: ${routeText(r, app.names, app.providers)}`)))
      : null,
    h('div', { class: 'actions' }, edit, limits, routes, revoke),
  );
}

async function editProviders(grant, app, rerender) {
  const keys = await app.run('credentials.list');
  const withKey = new Set(keys.ok ? keys.value.map((k) => k.provider) : []);
  const offered = app.providers.filter((p) => grant.providers.includes(p.id) || withKey.has(p.id));
  const boxes = offered.map((p) => {
    const input = h('input', { type: 'checkbox', name: 'site-provider', value: p.id, id: `site-provider-${p.id}`, checked: grant.providers.includes(p.id) });
    return h(
      'label',
      { class: 'check', for: input.id },
      input,
      h('span', {}, p.name),
      withKey.has(p.id) ? null : h('span', { class: 'muted small' }, ' · no key stored'),
    );
  });
  const saved = await formDialog({
    title: 'Providers this site may use',
    intro: grant.origin,
    fields: [h('fieldset', { class: 'plain' }, h('legend', { class: 'sr-only' }, 'Providers'), ...boxes)],
    onSubmit: async () => {
      const chosen = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      if (chosen.length === 0) return 'Keep at least one provider, or revoke the site instead.';
      const reply = await app.run('grants.setProviders', { origin: grant.origin, providers: chosen });
      return reply.ok ? null : reply.error;
    },
  });
  if (saved) {
    app.toast('Providers updated. The site was told.');
    rerender();
  }
}

async function editLimits(grant, app, rerender) {
  const form = limitsForm(grant.policy ?? {}, { idPrefix: 'site-limits' });
  const saved = await formDialog({
    title: 'Limits for this site',
    intro: grant.origin,
    fields: [form.element],
    onSubmit: async () => {
      const read = await form.read();
      if (read.error) {
        read.focus?.focus();
        return read.error;
      }
      const reply = await app.run('grants.setPolicy', { origin: grant.origin, policy: read.policy });
      return reply.ok ? null : reply.error;
    },
  });
  if (saved) {
    app.toast('Limits saved. They apply to the next request.');
    await rerender();
  }
}

async function editRoutes(grant, app, rerender) {
  const editor = routeEditor({ grant, providers: app.providers });
  const saved = await formDialog({
    title: 'Routes for this site',
    intro: grant.origin,
    fields: [editor.element],
    onSubmit: async () => {
      const reply = await app.run('grants.setRoutes', { origin: grant.origin, routes: editor.read() });
      return reply.ok ? null : reply.error;
    },
  });
  if (saved) {
    app.toast('Routes saved. They apply to the next request.');
    await rerender();
  }
}

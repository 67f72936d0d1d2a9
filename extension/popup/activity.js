// The Activity tab: the audit log, newest first, as the engine recorded it (time, site,
// provider, model, path, status, tokens, cost, duration, the app's reason), filtered by
// site, provider, text or errors only, and exported as JSON or CSV through a download.
import { debounce, errorText, formatDateTime, h, relativeTime } from '../ui/kit.js';
import { formatCount, formatDuration, formatUsd } from '../ui/metering.js';

const LIMIT = 200;
/** The filter survives re-renders of the tab while the popup is open. */
const filter = { origin: '', provider: '', text: '', errorsOnly: false };

export async function renderActivity(panel, app) {
  const grants = await app.run('grants.list');
  const origins = grants.ok ? grants.value.map((g) => g.origin) : [];
  if (filter.origin && !origins.includes(filter.origin)) origins.push(filter.origin);

  const site = h(
    'select',
    { id: 'activity-site' },
    h('option', { value: '' }, 'All sites'),
    ...origins.map((o) => h('option', { value: o, selected: o === filter.origin }, o)),
  );
  const provider = h(
    'select',
    { id: 'activity-provider' },
    h('option', { value: '' }, 'All providers'),
    ...app.providers.map((p) => h('option', { value: p.id, selected: p.id === filter.provider }, p.name)),
  );
  const text = h('input', { type: 'search', id: 'activity-text', autocomplete: 'off', placeholder: 'Model, path, reason…' });
  text.value = filter.text;
  const errorsOnly = h('input', { type: 'checkbox', id: 'activity-errors', checked: filter.errorsOnly });
  const count = h('p', { class: 'muted small', role: 'status', id: 'activity-count' });
  const list = h('ul', { class: 'cards audit', 'aria-labelledby': 'activity-title' });
  const message = h('p', { class: 'message', role: 'alert' });

  const query = () => {
    const f = {};
    if (filter.origin) f.origin = filter.origin;
    if (filter.provider) f.provider = filter.provider;
    if (filter.text.trim()) f.text = filter.text.trim();
    if (filter.errorsOnly) f.errorsOnly = true;
    return f;
  };

  const load = async () => {
    const reply = await app.run('audit.list', { filter: query(), limit: LIMIT });
    if (!reply.ok) {
      list.replaceChildren();
      count.textContent = '';
      message.textContent = errorText(reply.error);
      return;
    }
    message.textContent = '';
    const { records, total } = reply.value;
    count.textContent = total === 0
      ? ''
      : records.length < total
        ? `Newest ${formatCount(records.length)} of ${formatCount(total)} requests`
        : `${formatCount(total)} ${total === 1 ? 'request' : 'requests'}`;
    const filtered = Object.keys(query()).length > 0;
    list.replaceChildren(
      ...(records.length
        ? records.map((r) => row(r, app))
        : [h('li', { class: 'card empty' }, h('p', {}, filtered ? 'No requests match.' : 'No requests yet.'), h('p', { class: 'muted' }, filtered ? 'Change the filters to see more.' : 'Every request a connected site makes with your keys shows up here.'))]),
    );
  };

  const refilter = () => {
    filter.origin = site.value;
    filter.provider = provider.value;
    filter.text = text.value;
    filter.errorsOnly = errorsOnly.checked;
    load();
  };
  site.addEventListener('change', refilter);
  provider.addEventListener('change', refilter);
  errorsOnly.addEventListener('change', refilter);
  text.addEventListener('input', debounce(refilter, 250));

  const exportButton = (format, label) =>
    h(
      'button',
      {
        type: 'button',
        class: 'small',
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          const reply = await app.run('audit.export', { filter: query(), format });
          button.disabled = false;
          if (!reply.ok) {
            message.textContent = errorText(reply.error);
            return;
          }
          const url = URL.createObjectURL(new Blob([reply.value.text], { type: reply.value.mime }));
          const a = h('a', { href: url, download: reply.value.filename, hidden: true });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
          app.toast(`Saved ${reply.value.filename} to your downloads.`);
        },
      },
      label,
    );

  panel.replaceChildren(
    h('div', { class: 'panel-head' }, h('h2', { id: 'activity-title' }, 'Activity'), h('div', { class: 'row tight' }, exportButton('json', 'Export JSON'), exportButton('csv', 'Export CSV'))),
    h(
      'div',
      { class: 'filters', role: 'search', 'aria-label': 'Filter activity' },
      h('div', { class: 'field' }, h('label', { for: site.id, class: 'sr-only' }, 'Site'), site),
      h('div', { class: 'field' }, h('label', { for: provider.id, class: 'sr-only' }, 'Provider'), provider),
      h('div', { class: 'field wide' }, h('label', { for: text.id, class: 'sr-only' }, 'Search'), text),
      h('label', { class: 'check wide', for: errorsOnly.id }, errorsOnly, h('span', {}, 'Errors only')),
    ),
    message,
    count,
    list,
  );
  await load();
}

function row(r, app) {
  const failed = r.status === 0 || r.status >= 400 || Boolean(r.errorCode);
  const tokens = (r.usage?.inputTokens ?? 0) + (r.usage?.outputTokens ?? 0);
  const status = r.status === 0 ? 'No response' : String(r.status);
  const cost = r.costNanoUsd === null || r.costNanoUsd === undefined ? 'cost unknown' : formatUsd(r.costNanoUsd / 1e9);
  const usageText = `${formatCount(tokens)} tokens${r.usageComplete || failed ? '' : ' (at least)'} · ${cost} · ${formatDuration(r.durationMs)}`;
  return h(
    'li',
    { class: `card audit-row${failed ? ' failed' : ''}` },
    h(
      'div',
      { class: 'title-row' },
      h('span', { class: `tag status ${failed ? 'danger' : 'ok'}` }, status, r.errorCode ? ` ${r.errorCode}` : ''),
      h('span', { class: 'model grow' }, r.model ?? 'no model'),
      h('time', { class: 'muted small', datetime: new Date(r.timeMs).toISOString(), title: formatDateTime(r.timeMs) }, relativeTime(r.timeMs)),
    ),
    h('div', { class: 'meta' }, h('span', { class: 'origin-inline' }, r.origin), ` · ${app.names[r.provider] ?? r.provider}`),
    h('div', { class: 'mono path' }, r.path),
    h('div', { class: 'meta' }, usageText),
    r.reason ? h('div', { class: 'reason' }, h('span', { class: 'muted' }, 'Reason: '), r.reason) : null,
  );
}

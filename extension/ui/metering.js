// What metering looks like on Keyfob's pages: numbers worded for people, the 30-day chart,
// budget progress bars, and the limits form shared by the approval window and the Sites
// tab's "Edit limits" dialog. The engine counts, prices and enforces; this only shows it
// and turns the form back into the policy shape the core validates.
import { errorText, h, send } from './kit.js';

const NANO = 1e9;
const SVG = 'http://www.w3.org/2000/svg';

export const PERIODS = [
  ['day', 'Per day', 'Today'],
  ['week', 'Per week', 'This week'],
  ['month', 'Per month', 'This month'],
  ['total', 'In total', 'In total'],
];
export const SURFACES = [
  ['agents', 'Managed agents', 'Anthropic agents, sessions, environments and vaults'],
  ['files', 'Files and uploads', 'Stored files, uploads and vector stores'],
  ['batches', 'Batch jobs', 'Batch and other long-running jobs'],
  ['background', 'Background responses', 'Keep running and billing after the call returns'],
];

const integer = new Intl.NumberFormat(undefined);

/** "12,345". */
export const formatCount = (n) => integer.format(n ?? 0);

/** "$0.00", "$0.0000045", "$0.0123", "$12.50". */
export function formatUsd(usd) {
  const value = Number(usd) || 0;
  if (value === 0) return '$0.00';
  const options = value >= 1
    ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
    : value >= 0.01
      ? { minimumFractionDigits: 2, maximumFractionDigits: 4 }
      : { maximumSignificantDigits: 2 };
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', ...options }).format(value);
}

/** "1.2 s", "340 ms". */
export const formatDuration = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

/** "3 requests · 1,234 tokens · $0.0012" for a usage summary (or one day of it). */
export function usageLine(u) {
  const requests = u?.requests ?? 0;
  const tokens = (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0);
  const unpriced = u?.unpricedRequests ? ` (${u.unpricedRequests} unpriced)` : '';
  return `${formatCount(requests)} ${requests === 1 ? 'request' : 'requests'} · ${formatCount(tokens)} tokens · ${formatUsd(u?.costUsd)}${unpriced}`;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/**
 * Tokens per day as bars and cost per day as a line (each on its own scale), oldest left.
 * One `<rect class="chart-bar">` per day, each with a `<title>` naming the day.
 */
export function usageChart(daily) {
  const days = daily ?? [];
  const width = 300;
  const height = 56;
  const top = 4;
  const slot = width / Math.max(days.length, 1);
  const tokens = days.map((d) => (d.inputTokens ?? 0) + (d.outputTokens ?? 0));
  const costs = days.map((d) => d.costUsd ?? 0);
  const maxTokens = Math.max(1, ...tokens);
  const maxCost = Math.max(...costs, 0);
  const y = (v, max) => height - ((height - top) * v) / max;
  const bars = days.map((d, i) => {
    const barHeight = tokens[i] ? Math.max(1.5, height - y(tokens[i], maxTokens)) : 0;
    return svg(
      'rect',
      { class: 'chart-bar', x: (i * slot + slot * 0.15).toFixed(2), y: (height - barHeight).toFixed(2), width: (slot * 0.7).toFixed(2), height: barHeight.toFixed(2), 'data-date': d.date },
      svg('title', {}, `${d.date}: ${formatCount(tokens[i])} tokens, ${formatUsd(costs[i])}`),
    );
  });
  const line = maxCost > 0
    ? svg('polyline', { class: 'chart-cost', points: costs.map((c, i) => `${(i * slot + slot / 2).toFixed(2)},${y(c, maxCost).toFixed(2)}`).join(' ') })
    : null;
  const totalTokens = tokens.reduce((a, b) => a + b, 0);
  const totalCost = costs.reduce((a, b) => a + b, 0);
  const label = `Last ${days.length} days: ${formatCount(totalTokens)} tokens, ${formatUsd(totalCost)}. Bars are tokens per day; the line is cost per day.`;
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  chart.append(svg('line', { class: 'chart-base', x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5 }), ...bars);
  if (line) chart.append(line);
  return h(
    'figure',
    { class: 'usage-chart' },
    chart,
    h(
      'figcaption',
      { class: 'chart-legend', 'aria-hidden': 'true' },
      h('span', { class: 'key-bar' }, 'Tokens'),
      h('span', { class: 'key-line' }, 'Cost'),
      h('span', { class: 'grow right' }, `Last ${days.length} days`),
    ),
  );
}

/** One progress bar per limit of each budget (tokens and/or USD). */
export function budgetBars(budgets) {
  const rows = [];
  for (const b of budgets ?? []) {
    const when = PERIODS.find(([p]) => p === b.limit.period)?.[2] ?? b.limit.period;
    if (b.limit.maxTokens !== undefined && b.limit.maxTokens !== null) {
      rows.push(bar(`${when}: tokens`, b.spent.tokens, b.limit.maxTokens, `${formatCount(b.spent.tokens)} of ${formatCount(b.limit.maxTokens)} tokens`));
    }
    if (b.limit.maxCostNanoUsd !== undefined && b.limit.maxCostNanoUsd !== null) {
      const spent = b.spent.costNanoUsd / NANO;
      const max = b.limit.maxCostNanoUsd / NANO;
      rows.push(bar(`${when}: cost`, spent, max, `${formatUsd(spent)} of ${formatUsd(max)}`));
    }
  }
  return rows.length ? h('div', { class: 'budgets' }, ...rows) : null;
}

function bar(label, value, max, text) {
  const share = max > 0 ? Math.min(1, value / max) : 1;
  const tone = share >= 1 ? 'full' : share >= 0.8 ? 'high' : 'ok';
  const labelId = `budget-${Math.random().toString(36).slice(2)}`;
  return h(
    'div',
    { class: 'budget', dataset: { tone } },
    h('div', { class: 'budget-head' }, h('span', { id: labelId }, label), h('span', { class: 'muted' }, text)),
    h(
      'div',
      { class: 'budget-track', role: 'progressbar', 'aria-labelledby': labelId, 'aria-valuemin': 0, 'aria-valuemax': max, 'aria-valuenow': Math.min(value, max), 'aria-valuetext': text },
      h('span', { class: 'budget-fill', style: `width: ${(share * 100).toFixed(1)}%` }),
    ),
  );
}

// ---- the limits form ---------------------------------------------------------------------

/** Whether a policy sets anything. */
export function hasLimits(policy) {
  return Boolean(
    policy && (policy.budgets?.length || policy.models?.exact?.length || policy.models?.prefixes?.length || policy.surfaces?.length || policy.askAboveNanoUsd !== undefined && policy.askAboveNanoUsd !== null),
  );
}

/** "Daily 10,000 tokens · Only gpt-4o-mini, gpt-5* · Files and uploads" (or null). */
export function policySummary(policy) {
  if (!hasLimits(policy)) return null;
  const parts = [];
  for (const b of policy.budgets ?? []) {
    const amounts = [
      b.maxTokens !== undefined && b.maxTokens !== null ? `${formatCount(b.maxTokens)} tokens` : null,
      b.maxCostNanoUsd !== undefined && b.maxCostNanoUsd !== null ? formatUsd(b.maxCostNanoUsd / NANO) : null,
    ].filter(Boolean);
    parts.push(`${PERIODS.find(([p]) => p === b.period)?.[1] ?? b.period}: ${amounts.join(' or ')}`);
  }
  const models = [...(policy.models?.exact ?? []), ...(policy.models?.prefixes ?? []).map((p) => `${p}*`)];
  if (models.length) parts.push(`Only ${models.join(', ')}`);
  for (const s of policy.surfaces ?? []) parts.push(SURFACES.find(([id]) => id === s)?.[1] ?? s);
  if (policy.askAboveNanoUsd !== undefined && policy.askAboveNanoUsd !== null) parts.push(`Ask above ${formatUsd(policy.askAboveNanoUsd / NANO)}`);
  return parts.join(' · ');
}

/**
 * The fields of a grant policy. `read()` returns `{policy}` or `{error, focus}`.
 * `idPrefix` keeps ids unique when two forms could share a page.
 */
export function limitsForm(policy = {}, { idPrefix = 'limits' } = {}) {
  let rowIds = 0;
  const rows = h('div', { class: 'budget-rows' });
  const addButton = h('button', { type: 'button', class: 'small', onclick: () => addRow({ period: nextPeriod() }, true) }, 'Add a budget');

  function nextPeriod() {
    const used = new Set([...rows.querySelectorAll('select')].map((s) => s.value));
    return PERIODS.map(([p]) => p).find((p) => !used.has(p)) ?? 'day';
  }
  function syncAdd() {
    addButton.hidden = rows.childElementCount >= PERIODS.length;
  }
  function addRow(limit, focus = false) {
    const n = ++rowIds;
    const id = (what) => `${idPrefix}-budget-${n}-${what}`;
    const period = h('select', { id: id('period'), class: 'budget-period' }, ...PERIODS.map(([value, label]) => h('option', { value, selected: value === limit.period }, label)));
    const tokens = h('input', { type: 'text', inputmode: 'numeric', id: id('tokens'), class: 'budget-tokens', autocomplete: 'off', placeholder: 'No limit' });
    tokens.value = limit.maxTokens ?? '';
    const usd = h('input', { type: 'text', inputmode: 'decimal', id: id('usd'), class: 'budget-usd', autocomplete: 'off', placeholder: 'No limit' });
    usd.value = limit.maxCostNanoUsd !== undefined && limit.maxCostNanoUsd !== null ? String(limit.maxCostNanoUsd / NANO) : '';
    const row = h(
      'div',
      { class: 'budget-row', role: 'group', 'aria-label': `Budget ${n}` },
      h('div', { class: 'budget-field period' }, h('label', { for: period.id }, 'Budget'), period),
      h('div', { class: 'budget-field' }, h('label', { for: tokens.id }, 'Max tokens'), tokens),
      h('div', { class: 'budget-field' }, h('label', { for: usd.id }, 'Max USD'), usd),
      h(
        'button',
        {
          type: 'button',
          class: 'small ghost remove',
          onclick: () => {
            row.remove();
            syncAdd();
            addButton.hidden ? rows.querySelector('select')?.focus() : addButton.focus();
          },
        },
        '✕',
        h('span', { class: 'sr-only' }, `Remove budget ${n}`),
      ),
    );
    rows.append(row);
    syncAdd();
    if (focus) period.focus();
  }
  for (const b of policy.budgets ?? []) addRow(b);

  const models = h('textarea', { id: `${idPrefix}-models`, rows: 3, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `${idPrefix}-models-help`, placeholder: 'Every model' });
  models.value = [...(policy.models?.exact ?? []), ...(policy.models?.prefixes ?? []).map((p) => `${p}*`)].join('\n');

  const surfaceBoxes = SURFACES.map(([value, label, help]) => {
    const input = h('input', { type: 'checkbox', name: `${idPrefix}-surface`, value, id: `${idPrefix}-surface-${value}`, checked: (policy.surfaces ?? []).includes(value) });
    return h('label', { class: 'check', for: input.id, title: help }, input, h('span', {}, label));
  });

  const ask = h('input', { type: 'text', inputmode: 'decimal', id: `${idPrefix}-ask`, autocomplete: 'off', placeholder: 'Never ask', 'aria-describedby': `${idPrefix}-ask-help` });
  ask.value = policy.askAboveNanoUsd !== undefined && policy.askAboveNanoUsd !== null ? String(policy.askAboveNanoUsd / NANO) : '';

  const element = h(
    'div',
    { class: 'limits' },
    h('fieldset', { class: 'plain' }, h('legend', {}, 'Budgets'), h('p', { class: 'help' }, 'Requests over a budget are refused before they reach the provider.'), rows, h('div', { class: 'row' }, addButton)),
    h(
      'div',
      { class: 'field' },
      h('label', { for: models.id }, 'Allowed models'),
      models,
      h('p', { class: 'help', id: `${idPrefix}-models-help` }, 'One per line. End with * for a family, e.g. gpt-5*. Empty allows every model.'),
    ),
    h('fieldset', { class: 'plain' }, h('legend', {}, 'Also allow'), ...surfaceBoxes),
    h(
      'div',
      { class: 'field' },
      h('label', { for: ask.id }, 'Ask me above $'),
      ask,
      h('p', { class: 'help', id: `${idPrefix}-ask-help` }, 'A request that could cost more waits for your approval.'),
    ),
  );

  // The core parses and checks the form (amounts, model lines); this only maps its
  // answer back to the field to focus.
  async function read() {
    const rowList = [...rows.children];
    const form = {
      budgets: rowList.map((row) => ({
        period: row.querySelector('select').value,
        tokens: row.querySelector('.budget-tokens').value,
        usd: row.querySelector('.budget-usd').value,
      })),
      models: models.value,
      surfaces: surfaceBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value),
      askAbove: ask.value,
    };
    const reply = await send('policy.parse', { form });
    if (!reply.ok) return { error: errorText(reply.error), focus: models };
    if (reply.value.policy) return { policy: reply.value.policy };
    const { field, row, message } = reply.value.problem;
    const inRow = (cls) => rowList[row]?.querySelector(cls);
    const focus = { tokens: inRow('.budget-tokens'), usd: inRow('.budget-usd'), period: inRow('select'), models, ask }[field];
    return { error: message, focus };
  }

  return { element, read };
}

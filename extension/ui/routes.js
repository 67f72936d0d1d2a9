// Routes: "this site's calls to provider X are served by provider Y", with a model map.
// The wording that shows one, the approval window's offer for a provider without a key,
// and the popup's editor. No rule lives here: the engine checks every route it is given
// (approvals.decide, grants.setRoutes) and says what is wrong.
import { h, srOnly } from './kit.js';

let lists = 0;

/**
 * `Anthropic → OpenAI (claude-* → gpt-4o-mini)`, with the API when the route names one
 * (its label from `providers`, the engine's provider list).
 */
export function routeText(route, names, providers = []) {
  const name = (id) => names[id] ?? id;
  const rules = route.models.map((r) => `${r.pattern} → ${r.model}`).join(', ');
  const api = route.via && (providers.find((p) => p.id === route.to)?.apis?.find((a) => a.dialect === route.via)?.label ?? route.via);
  return `${name(route.from)} → ${name(route.to)}${api ? ` ${api}` : ''}${rules ? ` (${rules})` : ' (same model names)'}`;
}

/** A model text field suggesting `models` (the served provider's priced chat models). */
function modelInput({ id, value = '', models, label }) {
  const list = h('datalist', { id: `route-models-${++lists}` }, ...models.map((m) => h('option', { value: m })));
  const input = h('input', { id, type: 'text', value, list: list.id, autocomplete: 'off', spellcheck: 'false', 'aria-label': label });
  return {
    input,
    list,
    suggest(next) {
      list.replaceChildren(...next.map((m) => h('option', { value: m })));
    },
  };
}

/**
 * The approval window's offer for `from` (a provider with no key): serve its calls with
 * one of `targets` (providers with a key), every model mapped to one the user picks.
 * Starts at "no route": nothing is routed unless the user chooses it.
 */
export function routeOffer({ from, targets, idPrefix, onChange }) {
  const selectId = `${idPrefix}-to`;
  const select = h(
    'select',
    { id: selectId },
    h('option', { value: '' }, 'Don’t route'),
    ...targets.map((t) => h('option', { value: t.id }, t.name)),
  );
  const model = modelInput({ id: `${idPrefix}-model`, models: [], label: `Model that answers ${from.name}’s calls` });
  const modelField = h(
    'span',
    { class: 'route-model', hidden: true },
    h('label', { for: model.input.id }, 'as model'),
    model.input,
    model.list,
  );
  select.addEventListener('change', () => {
    const target = targets.find((t) => t.id === select.value);
    modelField.hidden = !target;
    model.suggest(target?.models ?? []);
    if (target && !model.input.value) model.input.value = target.models[0] ?? '';
    onChange?.(Boolean(target));
  });
  const element = h(
    'div',
    { class: 'route-offer' },
    h('label', { for: selectId }, 'Or serve its calls with'),
    select,
    modelField,
    h('p', { class: 'muted small hint' }, `The site keeps calling ${from.name}; Keyfob translates each call and pays with the key you pick. Features the other provider lacks are refused, never dropped.`),
  );
  return {
    element,
    /** The chosen route, or null. */
    read() {
      if (!select.value) return null;
      const served = model.input.value.trim();
      return { from: from.id, to: select.value, models: served ? [{ pattern: '*', model: served }] : [] };
    },
  };
}

/**
 * The popup's editor for a site's routes: per route its two providers and its model
 * rules (first match wins; a model no rule names keeps its name). `from` choices are
 * the site's providers; `to` choices every routable provider.
 */
export function routeEditor({ grant, providers }) {
  const routable = providers.filter((p) => p.routable);
  const fromChoices = routable.filter((p) => grant.providers.includes(p.id));
  const list = h('ol', { class: 'route-list' });
  const addRoute = h('button', { type: 'button', class: 'small', onclick: () => list.append(routeRow(blank()).element) }, 'Add a route');
  const rows = [];
  const blank = () => ({ from: fromChoices[0]?.id ?? '', to: routable.find((p) => p.id !== fromChoices[0]?.id)?.id ?? '', models: [] });

  function routeRow(route) {
    const n = rows.length + 1;
    const pick = (id, options, value, label) =>
      h('select', { id, 'aria-label': label }, ...options.map((p) => h('option', { value: p.id, selected: p.id === value }, p.name)));
    const from = pick(`route-${n}-from`, fromChoices, route.from, `Route ${n}: calls to`);
    const to = pick(`route-${n}-to`, routable, route.to, `Route ${n}: served by`);
    const modelsOf = () => routable.find((p) => p.id === to.value)?.models ?? [];
    // The served provider's API, where it has more than one (OpenAI: Chat or Responses).
    const via = h('select', { id: `route-${n}-via`, 'aria-label': `Route ${n}: through the API` });
    const viaField = h('span', { class: 'route-via' }, h('span', {}, 'through'), via);
    const showApis = (chosen) => {
      const apis = routable.find((p) => p.id === to.value)?.apis ?? [];
      via.replaceChildren(
        h('option', { value: '' }, 'its usual API'),
        ...apis.map((a) => h('option', { value: a.dialect, selected: a.dialect === chosen }, a.label)),
      );
      viaField.hidden = apis.length < 2;
    };
    showApis(route.via);
    const rules = h('ul', { class: 'rule-list' });
    const ruleRows = [];
    const addRule = (rule = { pattern: '', model: '' }) => {
      const k = ruleRows.length + 1;
      const pattern = h('input', { type: 'text', value: rule.pattern, placeholder: 'claude-*', spellcheck: 'false', 'aria-label': `Route ${n}, rule ${k}: requested model or prefix*` });
      const model = modelInput({ id: `route-${n}-rule-${k}-model`, value: rule.model, models: modelsOf(), label: `Route ${n}, rule ${k}: served model` });
      const item = h('li', { class: 'rule' }, pattern, h('span', { 'aria-hidden': 'true' }, '→'), model.input, model.list);
      const entry = { pattern, model, item, removed: false };
      item.append(
        h('button', { type: 'button', class: 'small link', onclick: () => { entry.removed = true; item.remove(); } }, 'Remove', srOnly(` rule ${k} of route ${n}`)),
      );
      ruleRows.push(entry);
      rules.append(item);
      return entry;
    };
    for (const rule of route.models) addRule(rule);
    to.addEventListener('change', () => {
      ruleRows.forEach((r) => r.model.suggest(modelsOf()));
      showApis(null);
    });
    const row = { removed: false };
    const element = h(
      'li',
      { class: 'route' },
      h('div', { class: 'row wrap' }, h('span', {}, 'Calls to'), from, h('span', {}, 'are served by'), to, viaField),
      rules,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'small', onclick: () => addRule().pattern.focus() }, 'Add a model rule', srOnly(` to route ${n}`)),
        h('button', { type: 'button', class: 'small danger', onclick: () => { row.removed = true; element.remove(); } }, 'Remove route', srOnly(` ${n}`)),
      ),
    );
    Object.assign(row, {
      element,
      read: () => ({
        from: from.value,
        to: to.value,
        ...(via.value && !viaField.hidden ? { via: via.value } : {}),
        models: ruleRows
          .filter((r) => !r.removed)
          .map((r) => ({ pattern: r.pattern.value.trim(), model: r.model.input.value.trim() }))
          .filter((r) => r.pattern || r.model),
      }),
    });
    rows.push(row);
    return row;
  }

  for (const route of grant.routes ?? []) list.append(routeRow(route).element);
  const element = h(
    'div',
    { class: 'route-editor' },
    h('p', { class: 'muted small' }, 'The site keeps calling its provider; Keyfob translates each call for the one that serves it, and pays with that provider’s key. In a rule, a name ending in * matches every model it starts with; the first rule that matches wins.'),
    fromChoices.length ? list : h('p', { class: 'muted' }, 'None of this site’s providers can be routed.'),
    fromChoices.length ? addRoute : null,
  );
  return {
    element,
    read: () => rows.filter((r) => !r.removed).map((r) => r.read()),
  };
}

// "The key appears nowhere the page can read": collect what a page can see, then search it for
// fragments of each secret.
//
// Surfaces (each `{where, text}`):
//   - `dom`: document.documentElement.outerHTML;
//   - `window`: every own property of `window`, serialized (Errors with their non-enumerable
//     message/stack/cause, Headers, Map, Set and byte arrays included; functions and DOM nodes
//     skipped, the DOM is in `dom`);
//   - `localStorage`, `sessionStorage`, `cookie`;
//   - `console`: every console message of the page (its text, and each argument serialized the
//     same way), plus uncaught page errors — `watchConsole(page)` must be attached before the
//     page does anything worth catching;
//   - anything else a test read in the page (response bodies and headers, error objects), passed
//     in as its own surface with `serializeInPage` for values.
//
// A secret is searched for whole and as every `width`-character window of its random part, so
// a key that was truncated, masked at one end or split still shows. Use random parts made of
// characters that JSON never escapes (letters and digits), long enough that a window cannot
// occur by chance.

/**
 * Serializes `value` (in the page) to a string for searching. Self-contained: it runs inside
 * the page through `page.evaluate` / `handle.evaluate`, so it may not use anything outside it.
 * With `mode === 'window'` it serializes every own property of `window` instead, one entry each.
 */
export function serializeInPage(value, mode) {
  const MAX_DEPTH = 10;
  const MAX_STRING = 1 << 20;
  const seen = new WeakSet();
  const isNode = (v) => typeof Node === 'function' && v instanceof Node;
  const walk = (v, depth) => {
    if (v === null || v === undefined) return v ?? null;
    const type = typeof v;
    if (type === 'string') return v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v;
    if (type === 'number' || type === 'boolean') return v;
    if (type === 'bigint' || type === 'symbol') return String(v);
    if (type === 'function') return undefined;
    if (v === globalThis || isNode(v)) return undefined;
    if (seen.has(v)) return '[seen]';
    seen.add(v);
    if (depth > MAX_DEPTH) return '[deep]';
    try {
      if (v instanceof Headers) return { headers: [...v] };
      if (v instanceof Map) return { map: [...v].map(([k, x]) => [walk(k, depth + 1), walk(x, depth + 1)]) };
      if (v instanceof Set) return { set: [...v].map((x) => walk(x, depth + 1)) };
      if (v instanceof ArrayBuffer) v = new Uint8Array(v);
      if (ArrayBuffer.isView(v)) {
        const bytes = new Uint8Array(v.buffer, v.byteOffset, Math.min(v.byteLength, MAX_STRING));
        return { bytes: new TextDecoder('latin1').decode(bytes) };
      }
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      const out = {};
      if (v instanceof Error) {
        // message, stack and cause are not enumerable: JSON.stringify(error) would drop them.
        out.name = String(v.name);
        out.message = String(v.message);
        out.stack = String(v.stack ?? '');
        if ('cause' in v) out.cause = walk(v.cause, depth + 1);
        for (const k of Object.getOwnPropertyNames(v)) {
          if (!(k in out)) {
            try {
              out[k] = walk(v[k], depth + 1);
            } catch {}
          }
        }
      }
      if (typeof v.toJSON === 'function' && !(v instanceof Error)) {
        try {
          out.toJSON = walk(v.toJSON(), depth + 1);
        } catch {}
      }
      for (const k of Object.keys(v)) {
        if (k in out) continue;
        try {
          out[k] = walk(v[k], depth + 1);
        } catch {}
      }
      return out;
    } catch (error) {
      return `[unreadable: ${error?.name}]`;
    }
  };
  const stringify = (v) => {
    try {
      return JSON.stringify(walk(v, 0)) ?? '';
    } catch (error) {
      return `[unserializable: ${error?.name}]`;
    }
  };
  if (mode !== 'window') return stringify(value);
  const entries = [];
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    let v;
    try {
      v = globalThis[name];
    } catch {
      continue;
    }
    if (typeof v === 'function' || v === globalThis) continue;
    const text = stringify(v);
    if (text && text !== 'null' && text !== '{}' && text !== '[]') entries.push(`${name}=${text}`);
  }
  return entries.join('\n');
}

/**
 * Collects the page's console messages and uncaught errors from now on. Returns
 * `{messages, settle()}`; `await settle()` before reading, so every argument got serialized.
 */
export function watchConsole(page) {
  const messages = [];
  const pending = [];
  page.on('console', (msg) => {
    const entry = { type: msg.type(), text: msg.text(), args: [] };
    messages.push(entry);
    for (const arg of msg.args()) {
      pending.push(
        arg
          .evaluate(serializeInPage)
          .then((text) => entry.args.push(text))
          .catch(() => {}),
      );
    }
  });
  page.on('pageerror', (error) => {
    messages.push({ type: 'pageerror', text: `${error?.name}: ${error?.message}\n${error?.stack ?? ''}`, args: [] });
  });
  return {
    messages,
    async settle() {
      await Promise.allSettled(pending);
    },
    /** The console as one surface. */
    surface() {
      return { where: 'console', text: messages.map((m) => `[${m.type}] ${m.text} ${m.args.join(' ')}`).join('\n') };
    },
  };
}

/** What the page can read about itself: the DOM, `window`, its storages and its cookies. */
export async function pageSurfaces(page) {
  const handle = await page.evaluateHandle(() => globalThis);
  try {
    const windowText = await handle.evaluate(serializeInPage, 'window');
    const rest = await page.evaluate(() => {
      const dump = (storage) => {
        const out = [];
        for (let i = 0; i < storage.length; i += 1) {
          const k = storage.key(i);
          out.push(`${k}=${storage.getItem(k)}`);
        }
        return out.join('\n');
      };
      return {
        dom: document.documentElement.outerHTML,
        localStorage: dump(localStorage),
        sessionStorage: dump(sessionStorage),
        cookie: document.cookie,
      };
    });
    return [
      { where: 'dom', text: rest.dom },
      { where: 'window', text: windowText },
      { where: 'localStorage', text: rest.localStorage },
      { where: 'sessionStorage', text: rest.sessionStorage },
      { where: 'cookie', text: rest.cookie },
    ];
  } finally {
    await handle.dispose().catch(() => {});
  }
}

/**
 * The strings to look for: the whole secret, and every `width`-character window of its
 * random part. `secrets` maps a name to `{secret, random}`.
 */
export function needles(secrets, { width = 10 } = {}) {
  const out = [];
  for (const [name, { secret, random }] of Object.entries(secrets)) {
    if (random.length < width) throw new Error(`needles: the random part of ${name} is shorter than ${width}`);
    out.push({ name, fragment: secret });
    for (let i = 0; i + width <= random.length; i += 1) out.push({ name, fragment: random.slice(i, i + width) });
  }
  return out;
}

/** Every `{where, name, fragment, context}` where a needle occurs in a surface. */
export function findLeaks(surfaces, list) {
  const hits = [];
  for (const { where, text } of surfaces) {
    if (typeof text !== 'string' || text === '') continue;
    for (const { name, fragment } of list) {
      const at = text.indexOf(fragment);
      if (at !== -1) {
        hits.push({ where, name, fragment, context: text.slice(Math.max(0, at - 80), at + fragment.length + 80) });
      }
    }
  }
  return hits;
}

/** A readable summary of `findLeaks` hits, one line per surface and secret. */
export function describeLeaks(hits) {
  const first = new Map();
  for (const hit of hits) {
    const key = `${hit.where}/${hit.name}`;
    if (!first.has(key)) first.set(key, hit);
  }
  return [...first.values()].map((h) => `${h.name} in ${h.where}: …${h.context}…`).join('\n');
}

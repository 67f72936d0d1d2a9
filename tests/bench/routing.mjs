// Routing's cost: the same chat answered by the OpenAI mock, asked for three ways from the
// page: direct fetch, through Keyfob to OpenAI (not routed), and through Keyfob as an
// Anthropic Messages call that the site's route sends to OpenAI (the request translated
// to Chat Completions, the answer back to Anthropic). Interleaved, same payload size.
// Throughput: a 1 MiB stream of small OpenAI chunks (the mock's bulk scenario), through
// Keyfob plain vs routed (every chunk re-encoded as Anthropic SSE), in provider MB/s.
import { summarize } from './stats.mjs';

const PROMPT = 'ping';
/** The mock's bulk stream is 1 MiB when the request names no size (a routed body cannot). */
const BULK_BYTES = 1 << 20;

/** Runs inside the page: interleaved triples; returns the three duration lists. */
async function triples({ n, prompt }) {
  const session = await window.keyfob.tryReconnect();
  const openai = session.createFetch('openai');
  const anthropic = session.createFetch('anthropic');
  const chat = JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'user', content: prompt }] });
  const messages = JSON.stringify({ model: 'claude-bench', max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
  const calls = {
    direct: () => fetch('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${session.sessionKey}`, 'content-type': 'application/json' }, body: chat }),
    plain: () => openai('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat }),
    routed: () => anthropic('https://api.anthropic.com/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: messages }),
  };
  const time = async (name) => {
    const t0 = performance.now();
    const res = await calls[name]();
    const text = await res.text();
    if (!res.ok) throw new Error(`${name}: status ${res.status} ${text.slice(0, 200)}`);
    if (name === 'routed' && !text.includes('"type":"message"')) throw new Error(`routed: not an Anthropic message: ${text.slice(0, 200)}`);
    return performance.now() - t0;
  };
  const names = Object.keys(calls);
  for (let i = 0; i < 20; i++) for (const name of names) await time(name); // warm every path
  const out = { direct: [], plain: [], routed: [] };
  for (let i = 0; i < n; i++) {
    // Rotate the order so no path always follows the same one.
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      out[name].push(await time(name));
    }
  }
  return out;
}

/** Runs inside the page: `runs` bulk streams plain and routed; ms and bytes of each. */
async function bulk({ runs }) {
  const session = await window.keyfob.tryReconnect();
  const openai = session.createFetch('openai');
  const anthropic = session.createFetch('anthropic');
  const calls = {
    plain: () => openai('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-bulk', stream: true, messages: [{ role: 'user', content: 'bulk' }] }) }),
    routed: () => anthropic('https://api.anthropic.com/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'claude-bulk', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'bulk' }] }) }),
  };
  const time = async (name) => {
    const t0 = performance.now();
    const res = await calls[name]();
    if (!res.ok) throw new Error(`${name}: status ${res.status} ${(await res.text()).slice(0, 200)}`);
    const reader = res.body.getReader();
    let got = 0;
    let tail = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.byteLength;
      tail = new TextDecoder().decode(value.subarray(Math.max(0, value.byteLength - 200)));
    }
    return { ms: performance.now() - t0, got, tail };
  };
  await time('plain');
  await time('routed');
  const out = { plain: [], routed: [] };
  for (let i = 0; i < runs; i++) for (const name of ['plain', 'routed']) out[name].push(await time(name));
  return out;
}

/** Gives the bench site Anthropic too, routed to OpenAI, for the section's duration. */
async function withRoute(wallet, origin, fn) {
  const grant = (await wallet.call('grants.list')).find((g) => g.origin === origin);
  await wallet.call('grants.setProviders', { origin, providers: [...new Set([...grant.providers, 'anthropic'])] });
  await wallet.call('grants.setRoutes', {
    origin,
    routes: [{ from: 'anthropic', to: 'openai', models: [{ pattern: 'claude-bulk', model: 'mock-bulk' }, { pattern: 'claude-*', model: 'gpt-bench' }] }],
  });
  try {
    return await fn();
  } finally {
    await wallet.call('grants.setRoutes', { origin, routes: [] });
    await wallet.call('grants.setProviders', { origin, providers: grant.providers });
  }
}

export async function measureRouting(page, wallet, { n = 200, runs = 5 } = {}) {
  const origin = new URL(page.url()).origin;
  return withRoute(wallet, origin, async () => {
    const t = await page.evaluate(triples, { n, prompt: PROMPT });
    const [d, p, r] = [t.direct, t.plain, t.routed].map(summarize);
    const s = await page.evaluate(bulk, { runs });
    const rate = (x) => BULK_BYTES / 1e6 / (x.ms / 1000);
    const pr = summarize(s.plain.map(rate));
    const rr = summarize(s.routed.map(rate));
    const complete = s.routed.every((x) => x.tail.includes("message_stop"));
    if (!complete) console.error(`bench: routed stream tail: ${s.routed[0].tail}`);
    return [
      { metric: 'chat, direct fetch', unit: 'ms', n, median: d.median, p99: d.p99 },
      { metric: 'chat via Keyfob, not routed', unit: 'ms', n, median: p.median, p99: p.p99 },
      { metric: 'chat via Keyfob, routed Anthropic → OpenAI', unit: 'ms', n, median: r.median, p99: r.p99 },
      { metric: 'added by routing (routed − not routed)', unit: 'ms', n, median: r.median - p.median, p99: r.p99 - p.p99, goal: '≤ 1 ms p50' },
      { metric: 'routed added latency (routed − direct)', unit: 'ms', n, median: r.median - d.median, p99: r.p99 - d.p99 },
      { metric: 'SSE 1 MiB via Keyfob, not routed', unit: 'MB/s', n: runs, median: pr.median },
      { metric: `SSE 1 MiB via Keyfob, routed${complete ? '' : ' (INCOMPLETE)'}`, unit: 'MB/s', n: runs, median: rr.median, ratio: rr.median / pr.median, goal: '≥ 0.5× not routed' },
    ];
  });
}

// Added latency of a non-streaming request: the same page, the same mock, interleaved
// direct fetch (CORS, preflight cached) vs Keyfob's createFetch. Also the trend over a
// long run through the wallet (first 100 vs last 100), to catch per-request growth.
import { summarize } from './stats.mjs';

const BODY = JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'user', content: 'ping' }] });

/** Runs inside the page: times `n` interleaved pairs; returns {direct: ms[], wallet: ms[]}. */
async function interleaved({ n, body }) {
  const session = await window.keyfob.tryReconnect();
  const viaWallet = session.createFetch('openai');
  const url = 'https://api.openai.com/v1/chat/completions';
  const init = () => ({
    method: 'POST',
    headers: { authorization: `Bearer ${session.sessionKey}`, 'content-type': 'application/json' },
    body,
  });
  const time = async (f) => {
    const t0 = performance.now();
    const res = await f(url, init());
    await res.text();
    if (!res.ok) throw new Error(`status ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 20; i++) { await time(fetch); await time(viaWallet); } // warm both paths
  const direct = [];
  const wallet = [];
  for (let i = 0; i < n; i++) {
    if (i % 2) { direct.push(await time(fetch)); wallet.push(await time(viaWallet)); }
    else { wallet.push(await time(viaWallet)); direct.push(await time(fetch)); }
  }
  return { direct, wallet };
}

/** Runs inside the page: `n` sequential wallet requests; returns every duration. */
async function sequential({ n, body }) {
  const session = await window.keyfob.tryReconnect();
  const viaWallet = session.createFetch('openai');
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await viaWallet('https://api.openai.com/v1/chat/completions', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body,
    });
    await res.text();
    if (!res.ok) throw new Error(`status ${res.status}`);
    out[i] = performance.now() - t0;
  }
  return out;
}

export async function measureLatency(page, { pairs = 200, trend = 10_000 } = {}) {
  const { direct, wallet } = await page.evaluate(interleaved, { n: pairs, body: BODY });
  const d = summarize(direct);
  const w = summarize(wallet);
  const rows = [
    { metric: 'non-streaming request, direct fetch', unit: 'ms', n: pairs, median: d.median, p99: d.p99 },
    { metric: 'non-streaming request, via Keyfob', unit: 'ms', n: pairs, median: w.median, p99: w.p99, ratio: w.median / d.median },
    { metric: 'added latency (Keyfob − direct)', unit: 'ms', n: pairs, median: w.median - d.median, p99: w.p99 - d.p99, goal: '≤ 1 ms p50, ≤ 5 ms p99' },
  ];
  if (trend > 0) {
    const all = await page.evaluate(sequential, { n: trend, body: BODY });
    const first = summarize(all.slice(0, 100));
    const last = summarize(all.slice(-100));
    rows.push(
      { metric: `via Keyfob, requests 1–100 of ${trend}`, unit: 'ms', n: 100, median: first.median, p99: first.p99 },
      { metric: `via Keyfob, last 100 of ${trend}`, unit: 'ms', n: 100, median: last.median, p99: last.p99, ratio: last.median / first.median, goal: 'flat (ratio ≈ 1)' },
    );
  }
  return rows;
}

// Streaming: added time to first byte of a normal SSE answer, and throughput of a long
// stream of small events (≥ 20 MB), through Keyfob vs the page's own fetch.
import { summarize } from './stats.mjs';

async function firstByte({ n }) {
  const session = await window.keyfob.tryReconnect();
  const viaWallet = session.createFetch('openai');
  const url = 'https://api.openai.com/v1/chat/completions';
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const time = async (f) => {
    const t0 = performance.now();
    const res = await f(url, { method: 'POST', headers: { authorization: `Bearer ${session.sessionKey}`, 'content-type': 'application/json' }, body });
    const reader = res.body.getReader();
    await reader.read();
    const t = performance.now() - t0;
    while (!(await reader.read()).done);
    return t;
  };
  for (let i = 0; i < 10; i++) { await time(fetch); await time(viaWallet); }
  const direct = [];
  const wallet = [];
  for (let i = 0; i < n; i++) { direct.push(await time(fetch)); wallet.push(await time(viaWallet)); }
  return { direct, wallet };
}

async function throughput({ bytes, runs }) {
  const session = await window.keyfob.tryReconnect();
  const viaWallet = session.createFetch('openai');
  const body = JSON.stringify({ model: 'mock-bulk', stream: true, bulk_bytes: bytes, messages: [{ role: 'user', content: 'bulk' }] });
  const time = async (f) => {
    const t0 = performance.now();
    const res = await f('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${session.sessionKey}`, 'content-type': 'application/json' }, body });
    const reader = res.body.getReader();
    let got = 0;
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.byteLength;
      chunks += 1;
    }
    return { ms: performance.now() - t0, got, chunks };
  };
  const direct = [];
  const wallet = [];
  for (let i = 0; i < runs; i++) { direct.push(await time(fetch)); wallet.push(await time(viaWallet)); }
  return { direct, wallet };
}

export async function measureStreaming(page, { n = 100, bytes = 20 << 20, runs = 3 } = {}) {
  const fb = await page.evaluate(firstByte, { n });
  const d = summarize(fb.direct);
  const w = summarize(fb.wallet);
  const tp = await page.evaluate(throughput, { bytes, runs });
  const rate = (r) => r.got / 1e6 / (r.ms / 1000);
  const dr = summarize(tp.direct.map(rate));
  const wr = summarize(tp.wallet.map(rate));
  const complete = tp.wallet.every((r) => r.got >= bytes) && tp.direct.every((r) => r.got >= bytes);
  return [
    { metric: 'stream first byte, direct', unit: 'ms', n, median: d.median, p99: d.p99 },
    { metric: 'stream first byte, via Keyfob', unit: 'ms', n, median: w.median, p99: w.p99 },
    { metric: 'added time to first byte', unit: 'ms', n, median: w.median - d.median, p99: w.p99 - d.p99, goal: '≤ 2 ms' },
    { metric: `SSE throughput ${(bytes / 1e6).toFixed(0)} MB, direct`, unit: 'MB/s', n: runs, median: dr.median },
    { metric: `SSE throughput ${(bytes / 1e6).toFixed(0)} MB, via Keyfob${complete ? '' : ' (INCOMPLETE)'}`, unit: 'MB/s', n: runs, median: wr.median, ratio: wr.median / dr.median, goal: '≥ 0.5× direct' },
  ];
}

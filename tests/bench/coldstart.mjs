// Cold start: the service worker is stopped, then a page's request wakes it; the first
// proxied response's time minus a warm request's time is what the wake-up costs.
import { median } from './stats.mjs';

async function oneRequest() {
  const session = await window.keyfob.tryReconnect();
  const f = session.createFetch('openai');
  const t0 = performance.now();
  const res = await f('https://api.openai.com/v1/models');
  await res.text();
  if (!res.ok) throw new Error(`status ${res.status}`);
  return performance.now() - t0;
}

export async function measureColdStart(h, page, { runs = 5 } = {}) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    await page.evaluate(oneRequest);
    warm.push(await page.evaluate(oneRequest));
    await h.browser.stopServiceWorker();
    cold.push(await page.evaluate(oneRequest));
  }
  const c = median(cold);
  const w = median(warm);
  return [
    { metric: 'warm request (GET /v1/models)', unit: 'ms', n: runs, median: w },
    { metric: 'first request after the worker was stopped', unit: 'ms', n: runs, median: c },
    { metric: 'cold start cost (cold − warm)', unit: 'ms', n: runs, median: c - w, goal: '≤ 15 ms' },
  ];
}

// Concurrency: 64 streams at once spread over 4 tabs, through Keyfob and then directly.
// Each stream has its own prompt, and its text must be exactly the mock's answer to that
// prompt: any cross-talk between streams shows up as a mismatch.
import { replyText } from '../e2e/lib/mock-providers.mjs';
import { percentile } from './stats.mjs';

async function burst({ prompts, direct }) {
  const session = await window.keyfob.tryReconnect();
  const f = direct ? fetch : session.createFetch('openai');
  const one = async (prompt) => {
    const t0 = performance.now();
    try {
      const res = await f('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${session.sessionKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: prompt }] }),
      });
      const raw = await res.text();
      let text = '';
      for (const line of raw.split('\n')) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        text += JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '';
      }
      return { prompt, text, ms: performance.now() - t0, error: res.ok ? null : `status ${res.status}` };
    } catch (e) {
      return { prompt, text: '', ms: performance.now() - t0, error: String(e) };
    }
  };
  return Promise.all(prompts.map(one));
}

export async function measureConcurrency(h, { tabs = 4, perTab = 16, rounds = 3 } = {}) {
  const pages = [];
  for (let i = 0; i < tabs; i++) pages.push(await h.newPage('/'));
  const run = async (direct, round) => {
    const results = await Promise.all(pages.map((page, t) =>
      page.evaluate(burst, { direct, prompts: Array.from({ length: perTab }, (_, i) => `round ${round} tab ${t} stream ${i} ${direct ? 'd' : 'w'}`) })));
    return results.flat();
  };
  const wallet = [];
  const direct = [];
  for (let r = 0; r < rounds; r++) {
    wallet.push(...(await run(false, r)));
    direct.push(...(await run(true, r)));
  }
  for (const p of pages) await p.close();
  const errors = wallet.filter((r) => r.error).length;
  const crossTalk = wallet.filter((r) => !r.error && r.text !== replyText(r.prompt)).length;
  const w = wallet.map((r) => r.ms).sort((a, b) => a - b);
  const d = direct.map((r) => r.ms).sort((a, b) => a - b);
  const n = tabs * perTab;
  return [
    { metric: `${n} concurrent streams over ${tabs} tabs: errors`, unit: 'count', n: wallet.length, median: errors, goal: '0' },
    { metric: `${n} concurrent streams: cross-talk (wrong bytes)`, unit: 'count', n: wallet.length, median: crossTalk, goal: '0' },
    { metric: `${n} concurrent streams, direct`, unit: 'ms', n: direct.length, median: percentile(d, 50), p99: percentile(d, 99) },
    { metric: `${n} concurrent streams, via Keyfob`, unit: 'ms', n: wallet.length, median: percentile(w, 50), p99: percentile(w, 99) },
    { metric: `${n} concurrent streams, added`, unit: 'ms', n: wallet.length, median: percentile(w, 50) - percentile(d, 50), p99: percentile(w, 99) - percentile(d, 99) },
  ];
}

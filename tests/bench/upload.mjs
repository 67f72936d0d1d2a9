// Upload: a 20 MB multipart body (FormData with a File) through Keyfob vs direct.
import { summarize } from './stats.mjs';

async function uploads({ bytes, runs }) {
  const session = await window.keyfob.tryReconnect();
  const viaWallet = session.createFetch('openai');
  const data = new Uint8Array(bytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const time = async (f) => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new File([data], 'bench.jsonl', { type: 'application/jsonl' }));
    const t0 = performance.now();
    const res = await f('https://api.openai.com/v1/files', { method: 'POST', headers: { authorization: `Bearer ${session.sessionKey}` }, body: form });
    const json = await res.json();
    return { ms: performance.now() - t0, ok: res.ok && json.bytes === bytes };
  };
  await time(fetch);
  await time(viaWallet);
  const direct = [];
  const wallet = [];
  for (let i = 0; i < runs; i++) { direct.push(await time(fetch)); wallet.push(await time(viaWallet)); }
  return { direct, wallet };
}

export async function measureUpload(page, { bytes = 20 << 20, runs = 5 } = {}) {
  const r = await page.evaluate(uploads, { bytes, runs });
  const d = summarize(r.direct.map((x) => x.ms));
  const w = summarize(r.wallet.map((x) => x.ms));
  const ok = [...r.direct, ...r.wallet].every((x) => x.ok);
  return [
    { metric: `upload ${(bytes / 1e6).toFixed(0)} MB multipart, direct`, unit: 'ms', n: runs, median: d.median },
    { metric: `upload ${(bytes / 1e6).toFixed(0)} MB multipart, via Keyfob${ok ? '' : ' (BYTES WRONG)'}`, unit: 'ms', n: runs, median: w.median, ratio: w.median / d.median, goal: '≤ 1.5× direct' },
  ];
}

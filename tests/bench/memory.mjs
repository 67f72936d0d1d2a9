// Memory: the service worker's JS heap (CDP Runtime.getHeapUsage on the worker's target)
// and the WASM linear memory (background.js `keyfobDiagnostics`), after unlock and after
// 1,000 proxied requests.

async function heapOfWorker(h) {
  const page = await h.browser.openExtensionPage('manifest.json');
  const cdp = await h.browser.context.newCDPSession(page);
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const target = targetInfos.find((t) => t.type === 'service_worker' && t.url.startsWith(`chrome-extension://${h.browser.extensionId}/`));
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
    const reply = new Promise((resolve) => {
      cdp.on('Target.receivedMessageFromTarget', (event) => {
        const message = JSON.parse(event.message);
        if (message.id === 1) resolve(message.result);
      });
    });
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }) });
    const result = await reply;
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    return result.usedSize;
  } finally {
    await page.close();
  }
}

async function requests({ n }) {
  const session = await window.keyfob.tryReconnect();
  const f = session.createFetch('openai');
  for (let i = 0; i < n; i++) {
    const res = await f('https://api.openai.com/v1/chat/completions', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: i % 2 === 0, messages: [{ role: 'user', content: `m${i}` }] }),
    });
    await res.text();
  }
}

export async function measureMemory(h, page, { n = 1000 } = {}) {
  const wasmBytes = () => h.browser.serviceWorker.evaluate(() => self.keyfobDiagnostics().wasmMemoryBytes);
  const heap1 = await heapOfWorker(h);
  const wasm1 = await wasmBytes();
  await page.evaluate(requests, { n });
  const heap2 = await heapOfWorker(h);
  const wasm2 = await wasmBytes();
  const mb = (b) => b / (1024 * 1024);
  return [
    { metric: 'worker JS heap used, after unlock', unit: 'MB', median: mb(heap1) },
    { metric: `worker JS heap used, after ${n} requests`, unit: 'MB', median: mb(heap2), ratio: heap2 / heap1 },
    { metric: 'WASM memory, after unlock', unit: 'MB', median: mb(wasm1) },
    { metric: `WASM memory, after ${n} requests`, unit: 'MB', median: mb(wasm2), ratio: wasm2 / wasm1 },
  ];
}

// Keyfob content script (isolated world): a relay between the page's shim and the
// service worker. It checks only the shape of frames; every decision is the worker's,
// which takes the origin from this script's port sender, never from a frame.
(() => {
  'use strict';
  const CHUNK = 512 * 1024; // request body bytes per runtime-port frame
  const KEEPALIVE_MS = 20_000; // a frame to the worker resets its idle timer

  window.addEventListener('message', (event) => {
    if (event.source !== window || event.ports.length !== 1) return;
    const data = event.data;
    if (!data || typeof data !== 'object' || data.__keyfob !== 1) return;
    if (data.kind === 'control') relayControl(event.ports[0]);
    else if (data.kind === 'request') relayRequest(event.ports[0]);
  });

  // ---- control: connect / reconnect / disconnect, and events for this frame ----
  function relayControl(pagePort) {
    let worker = null;
    const inFlight = new Map(); // id -> frame, re-sent if the worker restarts meanwhile

    function open() {
      worker = chrome.runtime.connect({ name: 'keyfob.control' });
      worker.onMessage.addListener((frame) => {
        if (frame?.t === 'reply') inFlight.delete(frame.id);
        pagePort.postMessage(frame);
      });
      worker.onDisconnect.addListener(() => {
        worker = null;
        if (inFlight.size === 0) return;
        // The worker restarted while calls were open: ask again, re-attaching to an
        // approval window that is still waiting rather than opening a second one.
        setTimeout(() => {
          if (!worker) open();
          for (const frame of inFlight.values()) worker.postMessage({ ...frame, resume: true });
        }, 50);
      });
    }

    pagePort.onmessage = (event) => {
      const frame = event.data;
      if (!frame || typeof frame !== 'object' || typeof frame.t !== 'string') return;
      if (!Number.isSafeInteger(frame.id)) return;
      const clean = { t: frame.t, id: frame.id };
      if (frame.t === 'connect') clean.providers = sanitizeProviders(frame.providers);
      inFlight.set(clean.id, clean);
      if (!worker) open();
      try {
        worker.postMessage(clean);
      } catch {
        worker = null; // the extension was reloaded; the disconnect handler retries
      }
    };
    open();
  }

  function sanitizeProviders(list) {
    if (!Array.isArray(list)) return [];
    return list.slice(0, 32).map((p) => ({ id: String(p?.id ?? ''), required: p?.required === true }));
  }

  // ---- request: one worker port per request, bytes carried as base64 ----
  function relayRequest(pagePort) {
    let worker;
    try {
      worker = chrome.runtime.connect({ name: 'keyfob.request' });
    } catch {
      pagePort.postMessage({ t: 'fail', code: 'EXTENSION_UNAVAILABLE', message: 'Keyfob was updated or disabled; reload the page.' });
      return;
    }
    let finished = false;
    // Body bytes are gathered into full frames: the worker caps the number of frames, and
    // a stream body may come in thousands of tiny chunks.
    let pending = null;
    let filled = 0;
    const flushBody = () => {
      if (filled > 0) worker.postMessage({ t: 'body', b: pending.subarray(0, filled).toBase64() });
      filled = 0;
    };
    const queueBody = (bytes) => {
      for (let at = 0; at < bytes.length; ) {
        if (filled === 0 && bytes.length - at >= CHUNK) {
          worker.postMessage({ t: 'body', b: bytes.subarray(at, at + CHUNK).toBase64() });
          at += CHUNK;
          continue;
        }
        pending ??= new Uint8Array(CHUNK);
        const n = Math.min(CHUNK - filled, bytes.length - at);
        pending.set(bytes.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === CHUNK) flushBody();
      }
    };
    const keepalive = setInterval(() => worker && worker.postMessage({ t: 'ping' }), KEEPALIVE_MS);
    const finish = () => {
      finished = true;
      clearInterval(keepalive);
      pagePort.close();
    };

    worker.onMessage.addListener((frame) => {
      switch (frame?.t) {
        case 'head':
          pagePort.postMessage({ t: 'head', status: frame.status, statusText: frame.statusText, headers: frame.headers });
          break;
        case 'data': {
          const bytes = Uint8Array.fromBase64(frame.b);
          pagePort.postMessage({ t: 'data', chunk: bytes.buffer }, [bytes.buffer]);
          break;
        }
        case 'end':
          pagePort.postMessage({ t: 'end' });
          finish();
          worker.disconnect();
          break;
        case 'error':
          pagePort.postMessage({ t: 'error', status: frame.status, body: frame.body });
          finish();
          worker.disconnect();
          break;
        case 'fail':
          pagePort.postMessage({ t: 'fail', code: frame.code, message: frame.message });
          finish();
          worker.disconnect();
          break;
      }
    });
    worker.onDisconnect.addListener(() => {
      if (finished) return;
      pagePort.postMessage({
        t: 'fail',
        code: 'WORKER_RESTARTED',
        message: 'The Keyfob service worker stopped during the request; try again.',
      });
      finish();
    });

    pagePort.onmessage = (event) => {
      const frame = event.data;
      if (finished || !frame || typeof frame !== 'object') return;
      if (frame.t === 'req') {
        worker.postMessage({
          t: 'req',
          provider: String(frame.provider),
          method: String(frame.method),
          url: String(frame.url),
          headers: Array.isArray(frame.headers) ? frame.headers.map(([k, v]) => [String(k), String(v)]) : [],
          sessionKey: String(frame.sessionKey ?? ''),
          hasBody: frame.hasBody === true,
        });
      } else if (frame.t === 'body' && frame.chunk instanceof ArrayBuffer) {
        queueBody(new Uint8Array(frame.chunk));
      } else if (frame.t === 'end') {
        flushBody();
        worker.postMessage({ t: 'end' });
      } else if (frame.t === 'abort') {
        finish();
        worker.disconnect();
      }
    };
  }
})();

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
      try {
        if (frame.t === 'connect') clean.providers = sanitizeProviders(frame.providers);
      } catch {
        pagePort.postMessage({ t: 'reply', id: frame.id, ok: false, error: { code: 'BAD_REQUEST', message: 'Malformed connect options.' } });
        return;
      }
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

  // ---- requests: one worker port per frame, shared by all its requests ----
  // Each request is an "exchange" with an id; frames both ways carry it. Sharing one port
  // saves a connection round trip per request. If the worker dies, every open exchange
  // fails with WORKER_RESTARTED and the next request opens a new port.
  const exchanges = new Map(); // id -> {onFrame, onWorkerGone}
  let requestsPort = null;
  let nextExchangeId = 1;
  let keepalive = null;

  function workerPort() {
    if (requestsPort) return requestsPort;
    const port = chrome.runtime.connect({ name: 'keyfob.requests' });
    port.onMessage.addListener((frame) => exchanges.get(frame?.id)?.onFrame(frame));
    port.onDisconnect.addListener(() => {
      if (requestsPort === port) requestsPort = null;
      const open = [...exchanges.values()];
      exchanges.clear();
      for (const exchange of open) exchange.onWorkerGone();
      updateKeepalive();
    });
    requestsPort = port;
    return port;
  }

  // A frame to the worker resets its idle timer, so a long quiet stream keeps it alive.
  function updateKeepalive() {
    if (exchanges.size > 0 && keepalive === null) {
      keepalive = setInterval(() => requestsPort?.postMessage({ t: 'ping' }), KEEPALIVE_MS);
    } else if (exchanges.size === 0 && keepalive !== null) {
      clearInterval(keepalive);
      keepalive = null;
    }
  }

  function relayRequest(pagePort) {
    let worker;
    try {
      worker = workerPort();
    } catch {
      pagePort.postMessage({ t: 'fail', code: 'EXTENSION_UNAVAILABLE', message: 'Keyfob was updated or disabled; reload the page.' });
      return;
    }
    const id = nextExchangeId++;
    const send = (frame) => {
      try {
        worker.postMessage({ ...frame, id });
      } catch {
        // The port is gone; its disconnect handler fails this exchange.
      }
    };
    let finished = false;
    // Body bytes are gathered into full frames: the worker caps the number of frames, and
    // a stream body may come in thousands of tiny chunks.
    let pending = null;
    let filled = 0;
    const flushBody = () => {
      if (filled > 0) send({ t: 'body', b: pending.subarray(0, filled).toBase64() });
      filled = 0;
    };
    const queueBody = (bytes) => {
      for (let at = 0; at < bytes.length; ) {
        if (filled === 0 && bytes.length - at >= CHUNK) {
          send({ t: 'body', b: bytes.subarray(at, at + CHUNK).toBase64() });
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
    const finish = () => {
      finished = true;
      exchanges.delete(id);
      updateKeepalive();
      pagePort.close();
    };
    const toPage = (bytes) => {
      const data = Uint8Array.fromBase64(bytes);
      pagePort.postMessage({ t: 'data', chunk: data.buffer }, [data.buffer]);
    };

    exchanges.set(id, {
      onFrame(frame) {
        switch (frame.t) {
          case 'head':
            pagePort.postMessage({ t: 'head', status: frame.status, statusText: frame.statusText, headers: frame.headers });
            if (typeof frame.b === 'string') toPage(frame.b);
            if (frame.end === true) {
              pagePort.postMessage({ t: 'end' });
              finish();
            }
            break;
          case 'data':
            if (typeof frame.b === 'string') toPage(frame.b);
            if (frame.end === true) {
              pagePort.postMessage({ t: 'end' });
              finish();
            }
            break;
          case 'end':
            pagePort.postMessage({ t: 'end' });
            finish();
            break;
          case 'error':
            pagePort.postMessage({ t: 'error', status: frame.status, body: frame.body });
            finish();
            break;
          case 'fail':
            pagePort.postMessage({ t: 'fail', code: frame.code, message: frame.message });
            finish();
            break;
        }
      },
      onWorkerGone() {
        if (finished) return;
        pagePort.postMessage({
          t: 'fail',
          code: 'WORKER_RESTARTED',
          message: 'The Keyfob service worker stopped during the request; try again.',
        });
        finish();
      },
    });
    updateKeepalive();

    pagePort.onmessage = (event) => {
      const frame = event.data;
      if (finished || !frame || typeof frame !== 'object') return;
      if (frame.t === 'req') {
        let req;
        try {
          req = {
            t: 'req',
            provider: String(frame.provider),
            method: String(frame.method),
            url: String(frame.url),
            headers: Array.isArray(frame.headers) ? frame.headers.map((pair) => [String(pair?.[0]), String(pair?.[1])]) : [],
            sessionKey: String(frame.sessionKey ?? ''),
            hasBody: frame.hasBody === true,
          };
        } catch {
          // A frame no string conversion can read (only a hostile page builds one).
          pagePort.postMessage({ t: 'fail', code: 'BAD_REQUEST', message: 'Malformed request frame.' });
          finish();
          return;
        }
        // A whole body sent with the request goes in the same worker frame, if it fits one.
        if (frame.chunk instanceof ArrayBuffer && frame.chunk.byteLength <= CHUNK) {
          req.b = new Uint8Array(frame.chunk).toBase64();
          req.end = true;
          send(req);
        } else if (frame.chunk instanceof ArrayBuffer) {
          send(req);
          queueBody(new Uint8Array(frame.chunk));
          flushBody();
          send({ t: 'end' });
        } else {
          send(req);
        }
      } else if (frame.t === 'body' && frame.chunk instanceof ArrayBuffer) {
        queueBody(new Uint8Array(frame.chunk));
      } else if (frame.t === 'end') {
        flushBody();
        send({ t: 'end' });
      } else if (frame.t === 'abort') {
        send({ t: 'abort' });
        finish();
      }
    };
  }
})();

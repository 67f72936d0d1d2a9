// Keyfob page shim (MAIN world). It holds no secret: the session key it hands out is
// useless outside this origin, and provider keys never reach the page.
// Every built-in it needs is captured at load, so a page that later replaces
// Object.prototype members, JSON, Headers, Response or fetch cannot bend it.
(() => {
  'use strict';
  if (Object.prototype.hasOwnProperty.call(window, 'keyfob')) return;

  const VERSION = '0.1.0';
  const {
    Object: { create, freeze, defineProperty, hasOwn, entries },
    Array: { isArray },
    Reflect: { apply },
    Promise: NativePromise,
    Error: NativeError,
    TypeError: NativeTypeError,
    DOMException: NativeDOMException,
    Response: NativeResponse,
    Request: NativeRequest,
    Headers: NativeHeaders,
    ReadableStream: NativeReadableStream,
    MessageChannel: NativeMessageChannel,
    Uint8Array: NativeUint8Array,
    ArrayBuffer: NativeArrayBuffer,
    URL: NativeURL,
    Event: NativeEvent,
    Map: NativeMap,
    Set: NativeSet,
  } = globalThis;
  const nativeFetch = globalThis.fetch;
  const postToWindow = window.postMessage;
  const dispatchEvent = window.dispatchEvent;
  const headersForEach = NativeHeaders.prototype.forEach;
  const requestBodyGetter = Object.getOwnPropertyDescriptor(NativeRequest.prototype, 'body').get;
  const requestUrlGetter = Object.getOwnPropertyDescriptor(NativeRequest.prototype, 'url').get;
  const requestMethodGetter = Object.getOwnPropertyDescriptor(NativeRequest.prototype, 'method').get;
  const requestHeadersGetter = Object.getOwnPropertyDescriptor(NativeRequest.prototype, 'headers').get;
  const getReader = NativeReadableStream.prototype.getReader;
  const readerRead = ReadableStreamDefaultReader.prototype.read;
  const portPost = MessagePort.prototype.postMessage;
  const portClose = MessagePort.prototype.close;
  const signalAdd = EventTarget.prototype.addEventListener;
  const signalAbortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted').get;
  const signalReasonGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason').get;
  const mapGet = NativeMap.prototype.get;
  const mapSet = NativeMap.prototype.set;
  const mapDelete = NativeMap.prototype.delete;
  const setAdd = NativeSet.prototype.add;
  const setDelete = NativeSet.prototype.delete;
  const setForEach = NativeSet.prototype.forEach;
  const stringStartsWith = String.prototype.startsWith;
  const jsonParse = JSON.parse;
  const signalRemove = EventTarget.prototype.removeEventListener;
  const { enqueue, close: closeStream, error: errorStream } = ReadableStreamDefaultController.prototype;
  const isNullBodyStatus = (s) => s === 101 || s === 103 || s === 204 || s === 205 || s === 304;

  const own = (obj, key) => (obj !== null && typeof obj === 'object' && hasOwn(obj, key) ? obj[key] : undefined);

  /** An error raised by Keyfob itself; branch on `code`, never on the message. */
  class KeyfobError extends NativeError {
    constructor(code, message) {
      super(message);
      defineProperty(this, 'name', { value: 'KeyfobError' });
      defineProperty(this, 'code', { value: code, enumerable: true });
    }
  }
  freeze(KeyfobError.prototype);

  const abortError = (signal) => {
    const reason = signal ? apply(signalReasonGetter, signal, []) : undefined;
    return reason !== undefined ? reason : new NativeDOMException('The operation was aborted.', 'AbortError');
  };

  // ---- control channel: one per frame, to the content script ----
  const control = new NativeMessageChannel();
  const waiting = new NativeMap(); // id -> {resolve, reject}
  const listeners = { disconnect: new NativeSet(), providersUpdated: new NativeSet() };
  let nextId = 1;
  let current = null; // the live session of this frame
  apply(postToWindow, window, [{ __keyfob: 1, kind: 'control' }, '/', [control.port2]]);

  control.port1.onmessage = (event) => {
    const frame = event.data;
    const t = own(frame, 't');
    if (t === 'reply') {
      const entry = apply(mapGet, waiting, [own(frame, 'id')]);
      if (!entry) return;
      apply(mapDelete, waiting, [own(frame, 'id')]);
      if (own(frame, 'ok') === true) entry.resolve(own(frame, 'value'));
      else entry.reject(new KeyfobError(String(own(own(frame, 'error'), 'code')), String(own(own(frame, 'error'), 'message'))));
    } else if (t === 'event') {
      const name = own(frame, 'name');
      if (name === 'disconnect') current = null;
      if (name === 'providersUpdated' && current) current.updateProviders(own(frame, 'detail'));
      const set = name === 'disconnect' ? listeners.disconnect : name === 'providersUpdated' ? listeners.providersUpdated : null;
      if (set) apply(setForEach, set, [(cb) => { try { cb(own(frame, 'detail')); } catch {} }]);
    }
  };

  function call(t, extra) {
    return new NativePromise((resolve, reject) => {
      const id = nextId++;
      apply(mapSet, waiting, [id, { resolve, reject }]);
      apply(portPost, control.port1, [{ t, id, ...extra }]);
    });
  }

  // ---- sessions ----
  function makeSession(value) {
    const sessionKey = String(own(value, 'sessionKey'));
    let providers = freezeProviders(own(value, 'providers'));
    const session = create(null);
    const state = {
      updateProviders(next) {
        providers = freezeProviders(next);
      },
    };
    defineProperty(session, 'sessionKey', { value: sessionKey, enumerable: true });
    defineProperty(session, 'providers', { get: () => providers, enumerable: true });
    session.createFetch = (providerId) => createFetch(String(providerId), sessionKey);
    session.isConnected = () => current === state;
    session.disconnect = async () => {
      if (current === state) current = null;
      await call('disconnect', {});
    };
    session.getUsage = () => call('usage', {});
    session.onDisconnect = (cb) => subscribe(listeners.disconnect, cb);
    session.onProvidersUpdated = (cb) => subscribe(listeners.providersUpdated, cb);
    current = state;
    return freeze(session);
  }

  function freezeProviders(raw) {
    const out = create(null);
    if (raw && typeof raw === 'object') {
      const list = entries(raw);
      for (let i = 0; i < list.length; i++) out[list[i][0]] = freeze({ available: own(list[i][1], 'available') === true });
    }
    return freeze(out);
  }

  function subscribe(set, cb) {
    if (typeof cb !== 'function') throw new NativeTypeError('callback must be a function');
    apply(setAdd, set, [cb]);
    return () => apply(setDelete, set, [cb]);
  }

  // ---- createFetch: a drop-in fetch that routes through the extension ----
  function createFetch(providerId, sessionKey) {
    const keyfobFetch = async function fetch(input, init) {
      // openai probes FormData support with fetch('data:,'): answer it locally.
      if (typeof input === 'string' && apply(stringStartsWith, input, ['data:'])) return apply(nativeFetch, globalThis, [input, init]);
      const signal = init && init.signal !== undefined ? init.signal : input instanceof NativeRequest ? input.signal : undefined;
      if (signal && apply(signalAbortedGetter, signal, [])) throw abortError(signal);
      // The Request constructor normalises every input shape fetch accepts (string, URL,
      // Request; Headers/object/array headers; string/Blob/FormData/URLSearchParams/
      // BufferSource/ReadableStream bodies) exactly as fetch would.
      const request = new NativeRequest(input, init);
      const headers = [];
      apply(headersForEach, apply(requestHeadersGetter, request, []), [(v, k) => { headers[headers.length] = [k, v]; }]);
      const body = apply(requestBodyGetter, request, []);
      const url = apply(requestUrlGetter, request, []);
      return send({ providerId, sessionKey, url, method: apply(requestMethodGetter, request, []), headers, body, signal });
    };
    return keyfobFetch;
  }

  function send({ providerId, sessionKey, url, method, headers, body, signal }) {
    return new NativePromise((resolve, reject) => {
      const channel = new NativeMessageChannel();
      const port = channel.port1;
      let controller = null; // the response stream's, once the head arrived
      let settled = false;
      const post = (frame, transfer) => apply(portPost, port, transfer ? [frame, transfer] : [frame]);
      const close = () => apply(portClose, port, []);

      const onAbort = () => {
        const error = abortError(signal);
        post({ t: 'abort' });
        close();
        if (!settled) reject(error);
        else if (controller) try { apply(errorStream, controller, [error]); } catch {}
        settled = true;
        controller = null;
      };
      if (signal) apply(signalAdd, signal, ['abort', onAbort, { once: true }]);
      // The exchange is over: release the port and stop listening on a signal an app may reuse.
      const done = () => {
        close();
        if (signal) apply(signalRemove, signal, ['abort', onAbort]);
      };

      port.onmessage = (event) => {
        const frame = event.data;
        switch (own(frame, 't')) {
          case 'head': {
            const status = own(frame, 'status');
            const nullBody = isNullBodyStatus(status);
            const stream = nullBody ? null : new NativeReadableStream({
              start(c) { controller = c; },
              cancel() { post({ t: 'abort' }); done(); controller = null; },
            }, { highWaterMark: 0 });
            const response = new NativeResponse(stream, {
              status,
              statusText: String(own(frame, 'statusText') ?? ''),
              headers: new NativeHeaders(own(frame, 'headers')),
            });
            defineProperty(response, 'url', { value: url });
            settled = true;
            resolve(response);
            break;
          }
          case 'data':
            if (controller) apply(enqueue, controller, [new NativeUint8Array(own(frame, 'chunk'))]);
            break;
          case 'end':
            if (controller) apply(closeStream, controller, []);
            controller = null;
            done();
            break;
          case 'error': {
            // A wallet-raised error is a real Response, so an SDK raises its own typed error.
            const body = String(own(frame, 'body'));
            let code = 'KEYFOB_ERROR';
            try { code = String(jsonParse(body).error.code); } catch {}
            const response = new NativeResponse(body, {
              status: own(frame, 'status'),
              headers: new NativeHeaders([['content-type', 'application/json'], ['x-keyfob-error', code]]),
            });
            defineProperty(response, 'url', { value: url });
            settled = true;
            done();
            resolve(response);
            break;
          }
          case 'fail': {
            const error = new KeyfobError(String(own(frame, 'code')), String(own(frame, 'message')));
            done();
            if (!settled) reject(new NativeTypeError('Failed to fetch through Keyfob', { cause: error }));
            else if (controller) apply(errorStream, controller, [error]);
            settled = true;
            controller = null;
            break;
          }
        }
      };

      apply(postToWindow, window, [{ __keyfob: 1, kind: 'request' }, '/', [channel.port2]]);
      post({ t: 'req', provider: providerId, sessionKey, method, url, headers, hasBody: body !== null });
      if (body !== null) pumpBody(body, post).catch(() => onAbort());
    });
  }

  async function pumpBody(stream, post) {
    const reader = apply(getReader, stream, []);
    for (;;) {
      const step = await apply(readerRead, reader, []);
      if (step.done) break;
      const bytes = step.value;
      const copy = new NativeUint8Array(bytes.byteLength);
      copy.set(bytes);
      post({ t: 'body', chunk: copy.buffer }, [copy.buffer]);
    }
    post({ t: 'end' });
  }

  // ---- the public API ----
  const keyfob = create(null);
  keyfob.isInstalled = true;
  keyfob.version = VERSION;
  keyfob.KeyfobError = KeyfobError;
  keyfob.connect = async (options) => {
    const providers = own(options, 'providers');
    if (!isArray(providers) || providers.length === 0) {
      throw new KeyfobError('BAD_REQUEST', 'connect({ providers: [{ id, required? }] }) needs at least one provider');
    }
    const list = [];
    for (let i = 0; i < providers.length; i++) {
      const p = providers[i];
      list[i] = { id: String(typeof p === 'string' ? p : own(p, 'id')), required: own(p, 'required') === true };
    }
    return makeSession(await call('connect', { providers: list }));
  };
  keyfob.tryReconnect = async () => {
    const value = await call('reconnect', {});
    return value ? makeSession(value) : null;
  };
  freeze(keyfob);
  defineProperty(window, 'keyfob', { value: keyfob, enumerable: false, configurable: false, writable: false });
  apply(dispatchEvent, window, [new NativeEvent('keyfob#initialized')]);
})();

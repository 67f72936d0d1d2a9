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
  const readerCancel = ReadableStreamDefaultReader.prototype.cancel;
  const promiseThen = NativePromise.prototype.then;
  const responseClone = NativeResponse.prototype.clone;
  const typedArraySet = Object.getPrototypeOf(Uint8Array.prototype).set;
  const byteLengthGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'byteLength').get;
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
  const stringIndexOf = String.prototype.indexOf;
  const stringSlice = String.prototype.slice;
  const jsonParse = JSON.parse;
  const textEncoder = new TextEncoder();
  const encode = TextEncoder.prototype.encode;
  const signalRemove = EventTarget.prototype.removeEventListener;
  const { enqueue, close: closeStream, error: errorStream } = ReadableStreamDefaultController.prototype;
  const isNullBodyStatus = (s) => s === 101 || s === 103 || s === 204 || s === 205 || s === 304;
  const ignore = () => {};

  const own = (obj, key) => (obj !== null && typeof obj === 'object' && hasOwn(obj, key) ? obj[key] : undefined);

  /** An error raised by Keyfob itself; branch on `code`, never on the message. */
  class KeyfobError extends NativeError {
    constructor(code, message, retryAfterMs) {
      super(message);
      defineProperty(this, 'name', { value: 'KeyfobError' });
      defineProperty(this, 'code', { value: code, enumerable: true });
      // APPROVAL_BACKOFF: how long until this site may ask again.
      if (typeof retryAfterMs === 'number') defineProperty(this, 'retryAfterMs', { value: retryAfterMs, enumerable: true });
    }
  }
  freeze(KeyfobError.prototype);

  const abortError = (signal) => {
    const reason = signal ? apply(signalReasonGetter, signal, []) : undefined;
    return reason !== undefined ? reason : new NativeDOMException('The operation was aborted.', 'AbortError');
  };

  // A constructed Response has no url; fetch's has the request's without its fragment,
  // and so do its clones (SDKs read `url` for errors and logs).
  function withUrl(response, url) {
    defineProperty(response, 'url', { value: url });
    defineProperty(response, 'clone', {
      value: function clone() {
        return withUrl(apply(responseClone, response, []), url);
      },
    });
    return response;
  }

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
      else {
        const error = own(frame, 'error');
        entry.reject(new KeyfobError(String(own(error, 'code')), String(own(error, 'message')), own(error, 'retryAfterMs')));
      }
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
      // A string body (what the SDKs send: JSON) is encoded directly, skipping a stream read.
      const raw = init !== null && typeof init === 'object' ? init.body : undefined;
      const body = typeof raw === 'string' ? apply(encode, textEncoder, [raw]) : apply(requestBodyGetter, request, []);
      const url = apply(requestUrlGetter, request, []);
      return send({ providerId, sessionKey, url, method: apply(requestMethodGetter, request, []), headers, body, signal });
    };
    return keyfobFetch;
  }

  function send({ providerId, sessionKey, url, method, headers, body, signal }) {
    const hashAt = apply(stringIndexOf, url, ['#']);
    const responseUrl = hashAt === -1 ? url : apply(stringSlice, url, [0, hashAt]);
    return new NativePromise((resolve, reject) => {
      const channel = new NativeMessageChannel();
      const port = channel.port1;
      let controller = null; // the response stream's, once the head arrived
      let settled = false;
      let stopBody = ignore; // stops sending the request body, cancelling the page's stream
      const post = (frame, transfer) => apply(portPost, port, transfer ? [frame, transfer] : [frame]);
      const close = () => apply(portClose, port, []);

      // Ends the exchange from the page's side: tell the worker (it aborts upstream), then
      // fail the promise or the body stream with `error`, as fetch does.
      const cancelWith = (error) => {
        stopBody(error);
        post({ t: 'abort' });
        close();
        if (signal) apply(signalRemove, signal, ['abort', onAbort]);
        if (!settled) reject(error);
        else if (controller) try { apply(errorStream, controller, [error]); } catch {}
        settled = true;
        controller = null;
      };
      const onAbort = () => cancelWith(abortError(signal));
      if (signal) apply(signalAdd, signal, ['abort', onAbort, { once: true }]);
      // The exchange is over: release the port and stop listening on a signal an app may reuse.
      const done = () => {
        stopBody();
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
            settled = true;
            resolve(withUrl(response, responseUrl));
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
            settled = true;
            done();
            resolve(withUrl(response, responseUrl));
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
      if (body instanceof NativeUint8Array) {
        // A body known up front rides in the request frame itself: one message, not three.
        post({ t: 'req', provider: providerId, sessionKey, method, url, headers, hasBody: true, chunk: body.buffer }, [body.buffer]);
        return;
      }
      post({ t: 'req', provider: providerId, sessionKey, method, url, headers, hasBody: body !== null });
      // A body stream that errors fails the fetch with a TypeError, as fetch does, and the
      // worker, told to abort, never sends a truncated body upstream.
      if (body !== null) {
        stopBody = pumpBody(body, post, (e) => cancelWith(new NativeTypeError('Failed to fetch: the request body stream failed', { cause: e })));
      }
    });
  }

  /**
   * Sends `stream` as body frames, then `end`. Returns `stop(reason)`: once the exchange is
   * over (answered, aborted, failed) no more is read, and the page's stream is cancelled,
   * as fetch cancels it, so an endless or stalled body stream is not read forever.
   */
  function pumpBody(stream, post, onError) {
    const reader = apply(getReader, stream, []);
    let stopped = false;
    (async () => {
      try {
        for (;;) {
          const step = await apply(readerRead, reader, []);
          if (stopped) return;
          if (step.done) break;
          // Copy the view's own bytes only (it may sit at an offset in a larger buffer).
          const buffer = new NativeArrayBuffer(apply(byteLengthGetter, step.value, []));
          apply(typedArraySet, new NativeUint8Array(buffer), [step.value]);
          post({ t: 'body', chunk: buffer }, [buffer]);
        }
        stopped = true;
        post({ t: 'end' });
      } catch (e) {
        if (!stopped) onError(e);
        stopped = true;
      }
    })();
    return (reason) => {
      if (stopped) return;
      stopped = true;
      apply(promiseThen, apply(readerCancel, reader, [reason]), [ignore, ignore]);
    };
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

// Keyfob service worker: glue only. Every decision is made by the Rust engine.
// Listeners are registered synchronously at the top level (a worker woken by an event
// must find its listener); the WASM engine is initialised lazily and awaited inside them.
import init, {
  handleMessage, openPort, openBridge, bridgeClosed, startBridgeIfWanted, onAlarm, onWindowRemoved,
} from './wasm/keyfob_wasm.js';

let engineReady = null;
let wasm = null;
function ready() {
  engineReady ??= init({ module_or_path: chrome.runtime.getURL('wasm/keyfob_wasm_bg.wasm') }).then((exports) => {
    wasm = exports;
  });
  return engineReady;
}

// Sizes only, for the benchmark harness and for debugging; never wallet contents.
self.keyfobDiagnostics = () => ({ wasmMemoryBytes: wasm ? wasm.memory.buffer.byteLength : 0 });

// Content scripts must not read the wallet's storage.
for (const area of [chrome.storage.local, chrome.storage.session]) {
  area.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' }).catch(() => {});
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  ready()
    .then(() => handleMessage(message, sender))
    .then(sendResponse, (error) =>
      sendResponse({ ok: false, error: { code: 'ENGINE_UNAVAILABLE', message: String(error?.message ?? error) } }),
    );
  return true; // the answer comes asynchronously
});

/** Feeds a port to the engine's sink for it; frames that arrive before the engine is
 * ready are queued, then replayed in order. */
function wire(port, open, onGone = () => {}) {
  const queue = [];
  let sink = null;
  let gone = false;
  port.onMessage.addListener((message) => (sink ? sink.message(message) : queue.push(message)));
  port.onDisconnect.addListener(() => {
    gone = true;
    if (sink) {
      sink.disconnected();
      sink.free();
      sink = null;
    }
    onGone(chrome.runtime.lastError?.message ?? null);
  });
  ready().then(() => {
    const opened = open(port);
    for (const message of queue) opened.message(message);
    queue.length = 0;
    if (gone) {
      opened.disconnected();
      opened.free();
    } else {
      sink = opened;
    }
  });
}

chrome.runtime.onConnect.addListener((port) => wire(port, openPort));

// The local bridge (docs/bridge.md): a native-messaging port to the `keyfob` host. The
// engine decides when it runs; this only opens and closes the port.
let bridge = null;
self.keyfobBridge = {
  connect() {
    if (bridge) return;
    try {
      bridge = chrome.runtime.connectNative('dev.keyfob.bridge');
    } catch (error) {
      bridgeClosed(String(error?.message ?? error));
      return;
    }
    const port = bridge;
    wire(port, openBridge, (reason) => {
      if (bridge === port) bridge = null;
      ready().then(() => bridgeClosed(reason));
    });
  },
  disconnect() {
    bridge?.disconnect();
    bridge = null;
  },
};
ready().then(() => startBridgeIfWanted()).catch(() => {});

chrome.alarms.onAlarm.addListener((alarm) => {
  ready().then(() => onAlarm(alarm.name)).catch(() => {});
});

chrome.windows.onRemoved.addListener((windowId) => {
  ready().then(() => onWindowRemoved(windowId)).catch(() => {});
});

// The auto-lock check runs every minute, whether or not the worker was asleep.
chrome.alarms.get('keyfob.autolock').then((alarm) => {
  if (!alarm) chrome.alarms.create('keyfob.autolock', { periodInMinutes: 1 });
});

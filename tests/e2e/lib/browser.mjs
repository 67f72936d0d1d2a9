// Launches Debian Chromium with the extension exactly as built (dist/extension/), every provider
// host mapped to the local HTTPS mock, and no other network.
//
// Stopping the service worker: Playwright keeps one attached DevTools session per worker target,
// and that target outlives a stop (Chromium keeps the worker's DevTools host across restarts),
// so neither a 'close' event nor a new 'serviceworker' event marks a restart. We therefore drive
// the worker through the CDP `ServiceWorker` domain from a page session (the same call
// chrome://serviceworker-internals' "Stop" makes), and take Chromium's own `runningStatus`
// ('stopped' / 'running') for the extension's registration as the truth.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ATTACKER_HOSTS, PROVIDER_HOSTS } from './mock-providers.mjs';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The built extension; KEYFOB_EXTENSION_DIR overrides it (e.g. to try a stub). */
export const EXTENSION_DIR = process.env.KEYFOB_EXTENSION_DIR
  ? resolve(process.env.KEYFOB_EXTENSION_DIR)
  : join(REPO_ROOT, 'dist', 'extension');
export const CHROMIUM = process.env.KEYFOB_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Host resolver rules: the providers, the attacker hosts and any extra a test names go to the
 * mock; every other name except localhost and 127.0.0.1 resolves to nothing, so no request can
 * leave the machine whatever a page or the extension tries.
 */
export function hostRules(mockPort, extraHosts = []) {
  const hosts = [...new Set([...Object.values(PROVIDER_HOSTS), ...ATTACKER_HOSTS, ...extraHosts])];
  const toMock = hosts.map((h) => `MAP ${h} 127.0.0.1:${mockPort}`);
  return [...toMock, 'MAP * ~NOTFOUND', 'EXCLUDE localhost', 'EXCLUDE 127.0.0.1'].join(', ');
}

/**
 * Launches Chromium with the extension. Options:
 *   mockPort     the mock's port (required)
 *   extensionDir defaults to dist/extension (or KEYFOB_EXTENSION_DIR)
 *   extraHosts   more host names to map to the mock
 *   headless     default true (KEYFOB_HEADFUL=1 to watch)
 *   args         extra Chromium flags
 *   swTimeout    how long to wait for the worker to start and activate (ms)
 *   env          extra environment for Chromium (and so for a native host it starts)
 * Returns {context, extensionId, extensionDir, serviceWorker, userDataDir, extensionUrl(path),
 *          openExtensionPage(path), stopServiceWorker(), wakeServiceWorker(),
 *          waitForServiceWorker(), serviceWorkerStatus(), close()}.
 */
export async function launchWithExtension({
  mockPort,
  extensionDir = EXTENSION_DIR,
  extraHosts = [],
  headless = process.env.KEYFOB_HEADFUL !== '1',
  args = [],
  swTimeout = 15_000,
  env = {},
} = {}) {
  if (!mockPort) throw new Error('launchWithExtension: mockPort is required');
  const userDataDir = await mkdtemp(join(tmpdir(), 'keyfob-e2e-profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless,
      env: { ...process.env, ...env },
      args: [
        `--disable-extensions-except=${extensionDir}`,
        `--load-extension=${extensionDir}`,
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-default-apps',
        '--disable-domain-reliability',
        '--metrics-recording-only',
        '--no-pings',
        `--host-resolver-rules=${hostRules(mockPort, extraHosts)}`,
        '--ignore-certificate-errors',
        ...args,
      ],
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }

  const fail = async (message) => {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(message);
  };

  let serviceWorker = context.serviceWorkers().find(isExtensionWorker);
  if (!serviceWorker) {
    serviceWorker = await context
      .waitForEvent('serviceworker', { predicate: isExtensionWorker, timeout: swTimeout })
      .catch(() => null);
  }
  if (!serviceWorker) {
    return fail(`the extension's service worker did not start within ${swTimeout} ms (extension: ${extensionDir})`);
  }
  const extensionId = new URL(serviceWorker.url()).host;
  const origin = `chrome-extension://${extensionId}`;

  // One page holds the CDP session that watches and stops the worker.
  let control = null;
  async function controlSession() {
    if (control) return control;
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const state = { page, cdp, versions: new Map(), listeners: new Set() };
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      for (const v of versions) {
        if (!v.scriptURL.startsWith(`${origin}/`)) continue;
        state.versions.set(v.versionId, v);
      }
      for (const l of state.listeners) l();
    });
    await cdp.send('ServiceWorker.enable');
    control = state;
    return state;
  }

  /** Resolves when Chromium reports our worker in `status` (checks at once, then on each update). */
  async function untilStatus(test, what, timeout) {
    const c = await controlSession();
    return new Promise((resolve, reject) => {
      const check = () => {
        const versions = [...c.versions.values()].filter((v) => v.status === 'activated');
        if (versions.length > 0 && test(versions)) {
          done();
          resolve(versions);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`service worker not ${what} within ${timeout} ms: ${JSON.stringify([...c.versions.values()].map((v) => v.runningStatus))}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        c.listeners.delete(check);
      };
      c.listeners.add(check);
      check();
    });
  }

  // A freshly installed worker is still installing when Playwright first sees it.
  try {
    await untilStatus(() => true, 'activated', swTimeout);
  } catch (error) {
    return fail(String(error.message));
  }

  const browserApi = {
    context,
    extensionId,
    extensionDir,
    userDataDir,
    get serviceWorker() {
      return serviceWorker;
    },
    extensionUrl: (path = '') => `${origin}/${path.replace(/^\//, '')}`,

    /** Opens `chrome-extension://ID/<path>` in a new tab and waits for it to load. */
    async openExtensionPage(path = 'popup/popup.html') {
      const page = await context.newPage();
      const response = await page.goto(browserApi.extensionUrl(path), { waitUntil: 'load' });
      if (response && !response.ok()) throw new Error(`extension page ${path} answered ${response.status()}`);
      return page;
    },

    /** Chromium's own view of the worker: 'running' | 'starting' | 'stopping' | 'stopped'. */
    async serviceWorkerStatus({ timeout = 10_000 } = {}) {
      const c = await controlSession();
      await untilStatus(() => true, 'activated', timeout);
      const versions = [...c.versions.values()].filter((v) => v.status === 'activated');
      return versions.at(-1)?.runningStatus ?? 'unknown';
    },

    /** Stops the extension's worker and resolves once Chromium reports it stopped. */
    async stopServiceWorker({ timeout = 10_000 } = {}) {
      const c = await controlSession();
      await untilStatus(() => true, 'activated', timeout);
      for (const v of c.versions.values()) {
        if (v.runningStatus === 'running' || v.runningStatus === 'starting') {
          await c.cdp.send('ServiceWorker.stopWorker', { versionId: v.versionId });
        }
      }
      await untilStatus((vs) => vs.every((v) => v.runningStatus === 'stopped'), 'stopped', timeout);
    },

    /**
     * Wakes the worker with a runtime message from an extension page (any event starts it),
     * then waits for it. Resolves with the message's reply, `{wakeError}` if sending failed, or
     * `{wakeTimeout: true}` if no reply came within 5 s. Without `page`, a tab on the
     * extension's own manifest.json sends it: every extension has one, and it is an extension
     * page with chrome.runtime.
     */
    async wakeServiceWorker(message = { cmd: 'vault.status' }, { page, path = 'manifest.json' } = {}) {
      const p = page ?? (await browserApi.openExtensionPage(path));
      try {
        const reply = await p.evaluate(
          (m) =>
            Promise.race([
              chrome.runtime.sendMessage(m).catch((e) => ({ wakeError: String(e?.message ?? e) })),
              new Promise((r) => setTimeout(() => r({ wakeTimeout: true }), 5000)),
            ]),
          message,
        );
        await browserApi.waitForServiceWorker();
        return reply;
      } finally {
        if (!page) await p.close();
      }
    },

    /** Resolves with the Playwright Worker once Chromium reports the worker running and it evaluates. */
    async waitForServiceWorker({ timeout = 15_000 } = {}) {
      await untilStatus((vs) => vs.some((v) => v.runningStatus === 'running'), 'running', timeout);
      const deadline = Date.now() + timeout;
      for (;;) {
        const w = context.serviceWorkers().find(isExtensionWorker);
        if (w) {
          const ok = await Promise.race([
            w.evaluate(() => true).catch(() => false),
            new Promise((r) => setTimeout(() => r(false), 1000)),
          ]);
          if (ok) {
            serviceWorker = w;
            return w;
          }
        }
        if (Date.now() > deadline) throw new Error('service worker running but not reachable from Playwright');
        await new Promise((r) => setTimeout(r, 50));
      }
    },

    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
  return browserApi;

  function isExtensionWorker(w) {
    return w.url().startsWith('chrome-extension://');
  }
}

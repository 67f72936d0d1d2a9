// One place to start and stop what a test file needs: the provider mock, two page servers
// (two origins) and Chromium with the extension. Teardown tolerates a half-finished start.
import { launchWithExtension } from './browser.mjs';
import { startMock } from './mock-providers.mjs';
import { startPagesServers } from './pages-server.mjs';

/**
 * Starts everything. Returns {mock, pages: {a, b}, browser, newPage(path, server), teardown()}.
 * Options go to startMock (`mock`) and launchWithExtension (`launch`).
 */
export async function startHarness({ mock: mockOptions, launch = {} } = {}) {
  const h = { mock: null, pages: null, browser: null };
  h.teardown = async () => {
    // Browser first, so no request is in flight when the servers go.
    await h.browser?.close().catch(() => {});
    await h.pages?.close().catch(() => {});
    await h.mock?.close().catch(() => {});
  };
  try {
    h.mock = await startMock(mockOptions);
    h.pages = await startPagesServers();
    h.browser = await launchWithExtension({ mockPort: h.mock.port, ...launch });
  } catch (error) {
    await h.teardown();
    throw error;
  }
  /** Opens `path` of pages server `a` (or `b`) in a new tab and waits for load. */
  h.newPage = async (path = '/', server = h.pages.a) => {
    const page = await h.browser.context.newPage();
    await page.goto(server.url(path), { waitUntil: 'load' });
    return page;
  };
  return h;
}
